"""The app's request class: text that is not UTF-8 (a query string, a form's fields, a
multipart part's name or file name) answers 400 saying so. Werkzeug would otherwise keep
the bytes percent-encoded as if they were text, or drop a whole multipart form."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property


class NotUtf8(BadRequest):
    """Request text that is not UTF-8."""

    def __init__(self) -> None:
        super().__init__()
        self.data = {"message": _("The request could not be read: send its text as UTF-8.")}


def _pairs(text: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise NotUtf8() from None


class Utf8FormDataParser(FormDataParser):
    def _parse_urlencoded(
        self, stream: Any, mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> Any:
        return stream, self.cls(_pairs(stream.read())), self.cls()

    def _parse_multipart(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._parse_multipart(*args, **kwargs)
        except UnicodeDecodeError:
            raise NotUtf8() from None


class Request(FlaskRequest):
    form_data_parser_class = Utf8FormDataParser

    @cached_property
    def args(self) -> MultiDict[str, str]:  # type: ignore[override]
        return self.parameter_storage_class(_pairs(self.query_string))
