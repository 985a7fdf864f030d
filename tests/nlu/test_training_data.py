from __future__ import annotations

from pathlib import Path

import pytest

from nlu import TrainingDataError
from nlu.annotations import AnnotationError, parse_annotated
from nlu.training_data import TrainingDataWarning, load_training_data, read_training_file
from tests.nlu.conftest import FIXTURES


@pytest.mark.parametrize(
    ("annotated", "text", "entities"),
    [
        ("indberet [4 timer](hours) nu", "indberet 4 timer nu", [("hours", "4 timer", 9, 16)]),
        ("[to](hours:2) timer", "to timer", [("hours", "2", 0, 2)]),
        (
            '[3.200]{"entity": "amount", "value": "3200.00"} kr',
            "3.200 kr",
            [("amount", "3200.00", 0, 5)],
        ),
        (
            '[x][{"entity": "a"}, {"entity": "b", "role": "r"}]',
            "x",
            [("a", "x", 0, 1), ("b", "x", 0, 1)],
        ),
        ("ingen annotationer [her]", "ingen annotationer [her]", []),
        ("[a](x) og [b](y)", "a og b", [("x", "a", 0, 1), ("y", "b", 5, 6)]),
    ],
)
def test_annotations(annotated: str, text: str, entities: list[tuple[str, str, int, int]]) -> None:
    parsed = parse_annotated(annotated)
    assert parsed.text == text
    assert [(e.entity, e.value, e.start, e.end) for e in parsed.entities] == entities


@pytest.mark.parametrize("bad", ['[x]{"entity" 1}', '[x]{"value": "1"}'])
def test_bad_annotation(bad: str) -> None:
    with pytest.raises(AnnotationError):
        parse_annotated(bad)


def test_reads_good_files() -> None:
    data = load_training_data(FIXTURES / "tiny", strict=True)
    assert data.intents == ["employer_report_wage", "greet", "thanks"]
    assert len(data.examples) == 24
    assert data.problems == []
    assert all("[" not in e.text and "](" not in e.text for e in data.examples)
    wage = next(e for e in data.examples if e.text.startswith("løn"))
    assert wage.text == "løn 1.250,50 kr. for 5 timer"
    assert [(x.entity, x.value) for x in wage.entities] == [
        ("amount", "1250.50"),
        ("hours", "5 timer"),
    ]
    # Explicit synonym blocks plus annotations whose value differs from the text, as in Rasa.
    assert data.synonyms == {"jep": "ja", "jo": "ja", "1.250,50 kr.": "1250.50"}
    assert data.regexes == {"card_number": [r"\b\d{5}\b"]}
    assert data.lookups == {"weekday": ["mandag", "tirsdag"]}


def test_broken_blocks_are_reported_with_the_file_name_and_skipped() -> None:
    path = FIXTURES / "broken" / "bad_blocks.yml"
    with pytest.warns(TrainingDataWarning) as caught:
        data = read_training_file(path)
    assert all("bad_blocks.yml" in str(w.message) for w in caught)
    assert len(data.problems) == 4
    joined = "\n".join(data.problems)
    assert "intent 'thanks' has no examples" in joined
    assert "intent 'deny' example lines must start with '- '" in joined
    assert "block 4 must have exactly one of" in joined
    assert "intent 'goodbye': invalid entity JSON" in joined
    # What could be read was kept: greet's two examples and goodbye's good line.
    assert sorted(e.text for e in data.examples) == ["hej", "hejsa", "vi ses"]


def test_strict_mode_raises_with_the_file_name() -> None:
    with pytest.warns(TrainingDataWarning), pytest.raises(TrainingDataError) as error:
        read_training_file(FIXTURES / "broken" / "bad_blocks.yml", strict=True)
    assert error.value.filename == "bad_blocks.yml"
    assert str(error.value).startswith("Issue found while processing 'bad_blocks.yml'")


def test_invalid_yaml_raises_with_the_file_name() -> None:
    with pytest.raises(TrainingDataError, match="not_yaml.yml.*not valid YAML"):
        read_training_file(FIXTURES / "broken" / "not_yaml.yml")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("- just a list\n", "top level must be a mapping"),
        ('version: "3.1"\nnlu: hello\n', "'nlu' must be a list"),
    ],
)
def test_wrong_shapes_raise(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "odd.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TrainingDataError, match=problem):
        read_training_file(path)


def test_missing_version_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "nover.yml"
    path.write_text("nlu:\n- intent: greet\n  examples: |\n    - hej\n", encoding="utf-8")
    with pytest.warns(TrainingDataWarning, match="nover.yml.*version"):
        data = read_training_file(path)
    assert [e.text for e in data.examples] == ["hej"]


def test_examples_as_list_of_texts(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples:\n  - text: hej\n  - hejsa\n',
        encoding="utf-8",
    )
    assert [e.text for e in read_training_file(path, strict=True).examples] == ["hej", "hejsa"]
