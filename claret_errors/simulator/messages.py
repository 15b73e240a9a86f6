"""The message catalogue: every error text the simulator can write, in every wording variant, in one place.

Tests enumerate it to check that the classifier knows every message. Pure data and string formatting.
"""

from __future__ import annotations

from typing import Literal

Wording = Literal["laravel9", "laravel10"]
AttributeStyle = Literal["spaces", "underscores"]
WORDINGS: tuple[Wording, ...] = ("laravel9", "laravel10")
ATTRIBUTE_STYLES: tuple[AttributeStyle, ...] = ("spaces", "underscores")

# rule -> taxonomy category (docs/architecture.md)
CATEGORY_OF_RULE: dict[str, str] = {
    "required": "missing_value",
    "exists": "unknown_reference",
    "date_format": "invalid_date",
    "numeric": "invalid_number",
    "gt": "out_of_range",
    "max": "out_of_range",
    "duplicate": "duplicate",
    "creation_not_allowed": "not_allowed",
    "update_not_allowed": "not_allowed",
}

# Laravel's default validation lines (lang/en/validation.php), 9.x and 10.x+, with {attribute} in place.
TEMPLATES: dict[Wording, dict[str, str]] = {
    "laravel9": {
        "required": "The {attribute} field is required.",
        "exists": "The selected {attribute} is invalid.",
        "date_format": "The {attribute} does not match the format Y-m-d.",
        "numeric": "The {attribute} must be a number.",
        "gt": "The {attribute} must be greater than 0.",
        "max": "The {attribute} must not be greater than 255 characters.",
        "duplicate": "The {attribute} has already been taken.",
        "creation_not_allowed": "Record creation is not allowed for this import.",
        "update_not_allowed": "Record update is not allowed for this import.",
    },
    "laravel10": {
        "required": "The {attribute} field is required.",
        "exists": "The selected {attribute} is invalid.",
        "date_format": "The {attribute} field must match the format Y-m-d.",
        "numeric": "The {attribute} field must be a number.",
        "gt": "The {attribute} field must be greater than 0.",
        "max": "The {attribute} field must not be greater than 255 characters.",
        "duplicate": "Duplicate row: the same {attribute}, bin and lot appear earlier in this file.",
        "creation_not_allowed": "Record creation is not allowed for this import.",
        "update_not_allowed": "Record update is not allowed for this import.",
    },
}

ROW_PREFIX = "There was an error on row {row}. "
PARSE_FAILURE = "The file could not be read as CSV: {detail}"
MISSING_COLUMNS = "The file is missing required columns: {columns}."
JOB_FAILURE = "The import failed unexpectedly. Please contact support."
NOT_CONFIRMED = "The record could not be confirmed after import."  # said of a row that did land
TOO_MANY = {
    "laravel9": "The {attribute} must not have more than 1000 items.",
    "laravel10": "The {attribute} field must not have more than 1000 items.",
}
FILE_REQUIRED = "The file field is required."


def attribute(field_name: str, style: AttributeStyle) -> str:
    """How Laravel names a field in a message: `date filled` (default) or `date_filled`."""
    return field_name.replace("_", " ") if style == "spaces" else field_name


def render(rule: str, field_name: str, wording: Wording, style: AttributeStyle) -> str:
    """The message for a failed rule on a field, in one wording variant."""
    return TEMPLATES[wording][rule].format(attribute=attribute(field_name, style))


def prefixed(message: str, row: int) -> str:
    """A message with Laravel Excel's row prefix; `row` is already in the variant's base."""
    return ROW_PREFIX.format(row=row) + message
