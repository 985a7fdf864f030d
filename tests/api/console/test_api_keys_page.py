"""API-nøgler through the real app: an administrator makes a key (shown once), sees its last
use after the key has called the API, and revokes it, which locks it out at once."""

from __future__ import annotations

import re

from ledger import RegisterEmployer
from tests.api.console.conftest import ConsoleEnv, login, post_form
from tests.api.console.test_caps_pages import alerts
from tests.ledger.support import ADMIN, audit_rows, valid_cvr

KEY = re.compile(r'<code class="api-key" id="new-api-key">(frk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})</code>')


def test_make_use_and_revoke_a_key(console_env: ConsoleEnv) -> None:
    cvr = valid_cvr(77)
    console_env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="Løn ApS"), actor=ADMIN)
    client = login(console_env.client, "admin")
    made = post_form(client, "/console/api-keys",
                     {"name": "Lønsystem", "kind": "employer", "cvr": cvr,
                      "municipality_code": ""})
    assert made.status_code == 200, made.text[:300]
    [secret] = KEY.findall(made.text)
    assert made.headers["cache-control"] == "no-store"
    page = client.get("/console/api-keys")
    assert secret not in page.text and "Aldrig" in page.text  # shown once, not used yet
    assert f"Arbejdsgiver, CVR {cvr}" in page.text

    api = console_env.new_client()
    used = api.get("/api/v1/caps", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200
    page = client.get("/console/api-keys")
    assert "Aldrig" not in page.text

    [key] = console_env.ledger.api_keys.list()
    revoked = post_form(client, f"/console/api-keys/{key.id}/revoke")
    assert revoked.status_code == 303
    assert alerts(client.get(revoked.headers["location"]).text) == [
        "Nøglen er spærret. Systemet, der brugte den, kan ikke komme ind længere."]
    assert api.get("/api/v1/caps",
                   headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    actions = [(r["action"], r["actor"]) for r in audit_rows(console_env.url)
               if r["action"].startswith("api_key.")]
    assert actions == [("api_key.create", "console:admin"), ("api_key.revoke", "console:admin")]


def test_refusals_and_who_may_see_the_page(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    refused = post_form(client, "/console/api-keys", {"name": "X", "kind": "employer",
                                                      "cvr": valid_cvr(78),
                                                      "municipality_code": ""})
    assert refused.status_code == 422 and "er ikke registreret" in refused.text
    nameless = post_form(client, "/console/api-keys", {"name": " ", "kind": "municipality",
                                                       "cvr": "", "municipality_code": "751"})
    assert nameless.status_code == 422 and "Giv nøglen et navn" in nameless.text
    assert console_env.ledger.api_keys.list() == []
    caseworker = login(console_env.new_client(), "caseworker_a")
    assert caseworker.get("/console/api-keys").status_code == 403
