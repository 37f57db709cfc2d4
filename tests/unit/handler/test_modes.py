"""LOG_IMAGES modes and redaction."""

from __future__ import annotations

from decimal import Decimal

from .conftest import configured, invoke, load_event


def test_new_mode_logs_the_new_image_and_the_old_one_only_on_remove() -> None:
    with configured(log_images="NEW"):
        insert, modify, remove = invoke(load_event("all_types")).records

    assert "new_image" in insert and "old_image" not in insert
    assert "new_image" in modify and "old_image" not in modify
    assert modify["changed"] == ["Discontinued", "Rating", "Stocks", "Tags"]
    assert "old_image" in remove and "new_image" not in remove


def test_changes_mode_logs_keys_and_only_the_changed_attributes() -> None:
    with configured(log_images="CHANGES"):
        (line,) = invoke(load_event("tutorial_modify")).records

    assert line["keys"] == {"PK": "FRUIT", "SK": "APPLE#WASHINGTON"}
    assert line["changes"] == {"Stocks": {"old": 33, "new": 32}}
    assert line["changed"] == ["Stocks"]
    assert "new_image" not in line and "old_image" not in line


def test_changes_mode_marks_added_and_removed_attributes_by_a_missing_side() -> None:
    with configured(log_images="CHANGES"):
        insert, modify, remove = invoke(load_event("all_types")).records

    assert modify["changes"] == {
        "Discontinued": {"old": None},
        "Rating": {"new": Decimal("4.5")},
        "Stocks": {"old": 12, "new": 11},
        "Tags": {"old": ["indian", "ripe", "sweet"], "new": ["ripe", "sweet"]},
    }
    assert insert["new_image"]["Stocks"] == 12 and "changes" not in insert
    assert remove["old_image"]["Stocks"] == 11 and "changes" not in remove


def test_changes_mode_is_the_cheapest() -> None:
    sizes = {}
    for mode in ("NEW_AND_OLD", "NEW", "CHANGES"):
        with configured(log_images=mode):
            sizes[mode] = len(invoke(load_event("all_types")).output)

    assert sizes["CHANGES"] < sizes["NEW"] < sizes["NEW_AND_OLD"]


def test_redacted_attribute_and_dotted_path_never_appear() -> None:
    event = load_event("all_types")
    for record in event["Records"]:
        for image in ("NewImage", "OldImage"):
            if image in record["dynamodb"]:
                record["dynamodb"][image]["email"] = {"S": f"buyer-{image}@example.com"}
                record["dynamodb"][image]["Price"]["M"]["USD"] = {"N": "1.2345" if image == "NewImage" else "9.8765"}

    for mode in ("NEW_AND_OLD", "NEW", "CHANGES"):
        with configured(log_images=mode, redact=["email", "Price.USD"]):
            result = invoke(event)

        assert "example.com" not in result.output
        assert "1.2345" not in result.output and "9.8765" not in result.output
        insert, modify, _remove = result.records
        assert insert["new_image"]["email"] == "[REDACTED]"
        assert insert["new_image"]["Price"] == {"USD": "[REDACTED]", "INR": 99}
        assert "email" in modify["changed"] and "Price" in modify["changed"]
    assert modify["changes"]["email"] == {"old": "[REDACTED]", "new": "[REDACTED]"}


def test_redacted_key_is_hidden_in_the_message_too() -> None:
    with configured(redact=["SK"]):
        (line,) = invoke(load_event("tutorial_modify")).records

    assert line["message"] == "MODIFY FRUIT / [REDACTED]"
    assert line["keys"] == {"PK": "FRUIT", "SK": "[REDACTED]"}
    assert "APPLE" not in str(line)


def test_redaction_path_applies_to_each_map_in_a_list() -> None:
    with configured(redact=["Lines.Sku"]):
        (line,) = invoke(load_event("nested")).records

    assert [order_line["Sku"] for order_line in line["new_image"]["Lines"]] == ["[REDACTED]", "[REDACTED]"]
    assert line["new_image"]["Lines"][0]["Qty"] == 3


def _with_new_attributes(**attributes: object) -> dict[str, object]:
    event = load_event("tutorial_modify")
    event["Records"][0]["dynamodb"]["NewImage"].update(attributes)
    return event


def test_an_escaped_dot_names_a_top_level_attribute_with_a_dot_in_its_name() -> None:
    # GIVEN an attribute literally named "card.number", and a map "card" with a "number"
    event = _with_new_attributes(**{"card.number": {"S": "4111-flat"}, "card": {"M": {"number": {"S": "4111-map"}}}})

    # WHEN "card\.number" is redacted: the name with a dot, not the path
    with configured(redact=["card\\.number"]):
        (line,) = invoke(event).records

    assert line["new_image"]["card.number"] == "[REDACTED]"
    assert line["new_image"]["card"] == {"number": "4111-map"}
    assert "4111-flat" not in str(line)


def test_a_path_whose_parent_is_not_a_map_redacts_the_parent_whole() -> None:
    # GIVEN "card" written flat (a string) and a rule for "card.number"
    event = _with_new_attributes(card={"S": "4111 1111 1111 1111"}, cards={"L": [{"S": "4222"}, {"M": {}}]})

    with configured(redact=["card.number", "cards.number"]):
        result = invoke(event)

    # THEN the string is hidden whole (fail closed), and so is each element of a list that is not a map
    (line,) = result.records
    assert line["new_image"]["card"] == "[REDACTED]"
    assert line["new_image"]["cards"] == ["[REDACTED]", {}]
    assert "4111" not in result.output and "4222" not in result.output


def test_a_path_into_a_key_hides_the_key_whole() -> None:
    with configured(redact=["SK.part"]):
        (line,) = invoke(load_event("tutorial_modify")).records

    assert line["message"] == "MODIFY FRUIT / [REDACTED]"
    assert line["keys"]["SK"] == "[REDACTED]" and "APPLE" not in str(line)
