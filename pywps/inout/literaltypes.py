"""Literal data types, their converters, and allowed-value descriptions (PyWPS 4 API)."""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import ParseResult, urlparse

from pywps.exceptions import InvalidParameterValue
from pywps.validator.allowed_value import ALLOWEDVALUETYPE, RANGECLOSURETYPE

log = logging.getLogger(__name__)

LITERAL_DATA_TYPES: dict[str, Callable[[Any], Any]] = {}
"""Converter functions by XML Schema data type name."""

XSD_TYPE_REFERENCE = "http://www.w3.org/TR/xmlschema-2/#{}"


def register_convert_type(name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Decorator: register a converter for a literal data type."""

    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        LITERAL_DATA_TYPES[name] = function
        return function

    return register


def data_type_reference(data_type: str) -> str:
    """The XML Schema reference URI advertised for a data type."""
    return XSD_TYPE_REFERENCE.format(data_type)


class AnyValue:
    """Any value is allowed."""

    value = None

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {"type": "anyvalue"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyValue)

    def __hash__(self) -> int:
        return hash("anyvalue")


class NoValue:
    """No value is allowed."""

    value = None

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {"type": "novalue"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoValue)

    def __hash__(self) -> int:
        return hash("novalue")


class ValuesReference:
    """The allowed values are listed at a URL (not fetched for validation)."""

    value = None

    def __init__(self, reference: str | None = None, values_form: str | None = None) -> None:
        if not reference:
            raise InvalidParameterValue("values reference is missing", locator="reference")
        self.reference = reference
        self.values_form = values_form

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {"type": "valuesreference", "reference": self.reference, "values_form": self.values_form}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ValuesReference:
        """Build from a dict."""
        return cls(reference=data["reference"], values_form=data.get("values_form"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValuesReference) and self.json == other.json

    def __hash__(self) -> int:
        return hash(self.reference)


class AllowedValue:
    """One allowed value, or a range of them (``minval``, ``maxval``, ``spacing``, ``range_closure``)."""

    def __init__(self, allowed_type: str | None = None, value: Any = None, minval: Any = None,
                 maxval: Any = None, spacing: Any = None,
                 range_closure: str = RANGECLOSURETYPE.CLOSED) -> None:
        if not allowed_type:
            is_range = minval is not None or maxval is not None or spacing is not None
            allowed_type = ALLOWEDVALUETYPE.RANGE if is_range else ALLOWEDVALUETYPE.VALUE
        self.allowed_type = allowed_type
        self.value = value
        self.minval = minval
        self.maxval = maxval
        self.spacing = spacing
        self.range_closure = range_closure or RANGECLOSURETYPE.CLOSED

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        value = self.value.json if hasattr(self.value, "json") else self.value
        return {"type": "allowedvalue", "allowed_type": self.allowed_type, "value": value,
                "minval": self.minval, "maxval": self.maxval, "spacing": self.spacing,
                "range_closure": self.range_closure}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AllowedValue:
        """Build from a dict."""
        return cls(allowed_type=data.get("allowed_type"), value=data.get("value"), minval=data.get("minval"),
                   maxval=data.get("maxval"), spacing=data.get("spacing"),
                   range_closure=data.get("range_closure") or RANGECLOSURETYPE.CLOSED)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AllowedValue) and self.json == other.json

    def __hash__(self) -> int:
        return hash((self.allowed_type, str(self.value), str(self.minval), str(self.maxval)))

    def __repr__(self) -> str:
        if self.allowed_type == ALLOWEDVALUETYPE.RANGE:
            bounds = f"{self.minval}..{self.maxval} step {self.spacing}"
            return f"AllowedValue(range {bounds}, {self.range_closure})"
        return f"AllowedValue({self.value!r})"


ALLOWED_VALUES_TYPES = (AllowedValue, AnyValue, NoValue, ValuesReference)


def convert(data_type: str, data: Any) -> Any:
    """Convert ``data`` to the Python value of ``data_type``; raise ``InvalidParameterValue`` if it fails."""
    converter = LITERAL_DATA_TYPES.get(data_type)
    if converter is None:
        raise InvalidParameterValue(f"Invalid data_type value of LiteralInput set to {data_type!r}")
    try:
        return converter(data)
    except (ValueError, TypeError, OverflowError):
        raise InvalidParameterValue(f"Could not convert value {str(data)[:100]!r} to {data_type}") from None


@register_convert_type("boolean")
def convert_boolean(inpt: Any) -> bool:
    """true/false, 1/0, t/f, yes/no (case-insensitive) to bool."""
    if isinstance(inpt, bool):
        return inpt
    text = str(inpt).strip().lower()
    if text in ("true", "t", "yes", "y", "on"):
        return True
    if text in ("false", "f", "no", "n", "off", ""):
        return False
    try:
        return float(text) != 0
    except ValueError:
        raise ValueError(f"not a boolean: {inpt!r}") from None


@register_convert_type("float")
def convert_float(inpt: Any) -> float:
    """To float (NaN and infinities accepted as XML Schema spells them)."""
    if isinstance(inpt, str):
        text = inpt.strip()
        special = {"INF": math.inf, "-INF": -math.inf, "NaN": math.nan}
        if text in special:
            return special[text]
        return float(text)
    return float(inpt)


@register_convert_type("integer")
def convert_integer(inpt: Any) -> int:
    """To int; ``'3.0'`` is accepted, ``'3.5'`` is not."""
    if isinstance(inpt, bool):
        return int(inpt)
    if isinstance(inpt, int):
        return inpt
    text = str(inpt).strip()
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"not an integer: {inpt!r}") from None
        return int(value)


@register_convert_type("string")
def convert_string(inpt: Any) -> str:
    """To str."""
    return str(inpt)


@register_convert_type("nonNegativeInteger")
def convert_non_negative_integer(inpt: Any) -> int:
    """To int >= 0."""
    value = convert_integer(inpt)
    if value < 0:
        raise ValueError(f"not a nonNegativeInteger: {inpt!r}")
    return value


@register_convert_type("positiveInteger")
def convert_positiveInteger(inpt: Any) -> int:
    """To int > 0."""
    value = convert_integer(inpt)
    if value <= 0:
        raise ValueError(f"not a positiveInteger: {inpt!r}")
    return value


@register_convert_type("anyURI")
def convert_anyURI(inpt: Any) -> ParseResult:
    """To URL components (``urllib.parse.ParseResult``, as PyWPS 4 did)."""
    if isinstance(inpt, ParseResult):
        return inpt
    components = urlparse(str(inpt).strip())
    if (components.scheme and components.netloc) or components.scheme in ("file", "urn", "mailto"):
        return components
    raise ValueError(f"not an anyURI: {inpt!r}")


def _parse_datetime(text: str) -> datetime.datetime:
    """ISO 8601 date-time, date or time to datetime (dateutil as fallback when installed)."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        try:
            from dateutil.parser import isoparse
        except ImportError:
            raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
        return isoparse(text)


@register_convert_type("dateTime")
def convert_datetime(inpt: Any) -> datetime.datetime:
    """ISO 8601 date-time to datetime."""
    if isinstance(inpt, datetime.datetime):
        return inpt
    if isinstance(inpt, datetime.date):
        return datetime.datetime(inpt.year, inpt.month, inpt.day)
    return _parse_datetime(str(inpt).strip())


@register_convert_type("date")
def convert_date(inpt: Any) -> datetime.date:
    """ISO 8601 date to date."""
    if isinstance(inpt, datetime.datetime):
        return inpt.date()
    if isinstance(inpt, datetime.date):
        return inpt
    return _parse_datetime(str(inpt).strip()).date()


@register_convert_type("time")
def convert_time(inpt: Any) -> datetime.time:
    """ISO 8601 time to time."""
    if isinstance(inpt, datetime.time):
        return inpt
    if isinstance(inpt, datetime.datetime):
        return inpt.timetz()
    text = str(inpt).strip()
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        return _parse_datetime(text).timetz()


@register_convert_type("scale")
def convert_scale(inpt: Any) -> float:
    """To float."""
    return convert_float(inpt)


@register_convert_type("angle")
def convert_angle(inpt: Any) -> float:
    """To degrees in [0, 360)."""
    return convert_float(inpt) % 360


def to_text(value: Any) -> str:
    """The XML Schema text of a converted literal value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, ParseResult):
        return value.geturl()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "INF" if value > 0 else "-INF"
    return str(value)


def make_allowedvalues(allowed_values: Any) -> list[Any]:
    """Normalise values, (min, max) / (min, spacing, max) tuples and classes to allowed-value objects."""
    if not isinstance(allowed_values, (tuple, list)):
        allowed_values = [allowed_values]
    result: list[Any] = []
    for value in allowed_values:
        if value in ALLOWED_VALUES_TYPES:
            result.append(value())
        elif isinstance(value, ALLOWED_VALUES_TYPES):
            result.append(value)
        elif isinstance(value, (tuple, list)):
            if len(value) == 2:
                result.append(AllowedValue(minval=value[0], maxval=value[1]))
            elif len(value) == 3:
                result.append(AllowedValue(minval=value[0], spacing=value[1], maxval=value[2]))
            else:
                raise InvalidParameterValue(f"a range is (min, max) or (min, spacing, max), not {value!r}")
        else:
            result.append(AllowedValue(value=value))
    return result


def is_anyvalue(value: Any) -> bool:
    """Whether ``value`` means any value (None, the class, an instance or the string 'anyvalue')."""
    if value is None or value is AnyValue or isinstance(value, AnyValue):
        return True
    return str(value).lower() == "anyvalue"


def is_values_reference(value: Any) -> bool:
    """Whether ``value`` is a ValuesReference (class, instance or name)."""
    if value is None:
        return False
    return (value is ValuesReference or isinstance(value, ValuesReference)
            or str(value).lower() == "valuesreference")
