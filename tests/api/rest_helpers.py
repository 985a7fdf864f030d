"""Small helpers shared by the REST API tests."""

from __future__ import annotations

import csv
import io
from typing import Any

from api.export_records import EXPORT_COLUMNS
from tests.api.conftest import Api

V1 = "/api/v1"


def export(api: Api, municipality: str, year: int, fmt: str) -> Any:
    response = api.get(f"{V1}/exports/wage-reports",
                       params={"municipality": municipality, "year": year, "format": fmt})
    assert response.status_code == 200, response.text
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        return response.json()
    assert response.headers["content-type"].startswith("text/csv")
    assert f"wage-reports-{municipality}-{year}.csv" in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
    return list(reader)
