"""ask-sdk's serializer, made cheaper on the path every request takes, with the same values out.

The warm cost of a request was mostly ask-sdk converting it: the Lambda event written out as JSON
and read back, each model class imported per field, every timestamp through dateutil, and a deep
copy of the session attributes that asks each value whether it is a date, an enum or a model.
`Serializer` does the same conversions for less (tests/test_serializer.py checks its output
against ask-sdk's own for every kind of request). It overrides ask-sdk's name-mangled private
methods: if an SDK upgrade renames them, ours stop being called and the speed-up goes, while the
output stays right.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.core.profile import json_copy

#: What `Serializer.serialize` hands back as it is: JSON's own types (bool is an int).
_PLAIN = frozenset((str, int, float, bool, type(None)))


class _SessionAttributes(dict[str, Any]):
    """A request's session attributes, as JSON carried them. ask-sdk's AttributesManager hands
    the handlers a ``deepcopy`` of them on every request; this one is made for JSON's values
    (two of which are never one object once they have travelled as text), in about a third of
    the time."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        copied: dict[str, Any] = json_copy(dict(self))
        return copied


class Serializer(DefaultSerializer):
    """ask-sdk's serializer, with what it does on every request made cheaper, the same values out.

    A timestamp is read by ``datetime.fromisoformat`` (Alexa's are ISO 8601), and by dateutil,
    as before, only when that cannot read it; a model class is looked up once, not imported per
    field; JSON's own values (the session attributes) are copied without asking each one whether
    it is a date, an enum or a model; and a request's session attributes are `_SessionAttributes`.
    """

    def deserialize(self, payload: Any, obj_type: Any) -> Any:
        return self._attributes_as_json(super().deserialize(payload, obj_type))

    def read_event(self, event: Any) -> Any:
        """``deserialize(json.dumps(event), RequestEnvelope)`` without writing the event out and
        reading it back: it is JSON's values already (Lambda parsed it), and the model reads it
        without changing it (the session attributes are copied for the handlers, as always)."""
        read = self._DefaultSerializer__deserialize
        try:
            found = read(event, RequestEnvelope)
        except SerializationException:
            raise
        except Exception as e:  # as deserialize says it: a payload it cannot read
            raise SerializationException(str(e)) from e
        return self._attributes_as_json(found)

    @staticmethod
    def _attributes_as_json(found: Any) -> Any:
        session = getattr(found, "session", None) if isinstance(found, RequestEnvelope) else None
        if session is not None and type(session.attributes) is dict:
            session.attributes = _SessionAttributes(session.attributes)
        return found

    def serialize(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is dict:
            return {key: value if type(value) in _PLAIN else self.serialize(value)
                    for key, value in obj.items()}
        if kind is list:
            return [value if type(value) in _PLAIN else self.serialize(value) for value in obj]
        fields = _MODEL_KEYS.get(kind)
        if fields is None:
            if not hasattr(kind, "deserialized_types") or isinstance(obj, Enum):
                return super().serialize(obj)
            names = {**getattr(kind, "attribute_map", {})}
            fields = _MODEL_KEYS[kind] = tuple(
                (name, names.get(name, name)) for name in kind.deserialized_types)
        # A model: its fields that are set, under their payload names (as ask-sdk writes it).
        found = {}
        for name, key in fields:
            value = getattr(obj, name)
            if value is not None:
                found[key] = self.serialize(value)
        return found

    def _DefaultSerializer__deserialize_datetime(self, payload: Any, obj_type: Any) -> Any:
        if type(payload) is str:
            try:
                parsed = datetime.fromisoformat(payload)
            except ValueError:
                pass
            else:
                return parsed.date() if obj_type is date else parsed
        return super()._DefaultSerializer__deserialize_datetime(  # type: ignore[misc]
            payload, obj_type)

    def _DefaultSerializer__deserialize(self, payload: Any, obj_type: Any) -> Any:
        """As ask-sdk's, with what a type name means worked out once per name: a value already of
        its primitive type is itself (``str(s)`` is ``s``), an ``object`` is the payload, a model
        name is its class. Lists, dicts, dates and the rest go to ask-sdk's own."""
        if payload is not None and type(obj_type) is str:
            plan = _PLANS.get(obj_type)
            if plan is None:
                plan = _PLANS[obj_type] = self._plan(obj_type)
            kind, target = plan
            if kind == "primitive":
                if type(payload) is target:
                    return payload
            elif kind == "object":
                return payload
            elif kind == "model":
                return self._DefaultSerializer__deserialize_model(payload, target)
        return super()._DefaultSerializer__deserialize(  # type: ignore[misc]
            payload, obj_type)

    def _plan(self, obj_type: str) -> tuple[str, Any]:
        if obj_type.startswith(("list[", "dict(")):
            return "", None
        native = self.NATIVE_TYPES_MAPPING.get(obj_type)
        if native is None:
            return "model", self._DefaultSerializer__load_class_from_name(obj_type)
        if native in self.PRIMITIVE_TYPES:
            return "primitive", native
        return ("object", None) if native is object else ("", None)

    def _DefaultSerializer__deserialize_model(self, payload: Any, obj_type: Any) -> Any:
        """As ask-sdk's: each field the payload has, by its model's `attribute_map` and
        `deserialized_types`, then the payload's other keys as they are; the field list is made
        once per class (ask-sdk merges the two maps again for every object it reads)."""
        try:
            if issubclass(obj_type, Enum):
                return obj_type(payload)
            if not hasattr(obj_type, "deserialized_types"):
                return payload
            if hasattr(obj_type, "get_real_child_model"):
                obj_type = self._DefaultSerializer__get_obj_by_discriminator(  # type: ignore[attr-defined]
                    payload, obj_type)
            fields, known = _model_fields(obj_type)
            model = obj_type()
            read = self._DefaultSerializer__deserialize
            for name, key, kind in fields:
                if key in payload:
                    setattr(model, name, read(payload[key], kind))
            for key in payload:
                if key not in known:
                    setattr(model, key, payload[key])
            return model
        except Exception as e:
            raise SerializationException(str(e)) from e

    def _DefaultSerializer__load_class_from_name(self, class_name: str) -> Any:
        found = _MODEL_CLASSES.get(class_name)
        if found is None:
            load = super()._DefaultSerializer__load_class_from_name  # type: ignore[misc]
            found = _MODEL_CLASSES[class_name] = load(class_name)
        return found


#: Model classes by the names ask-sdk's models give them ("ask_sdk_model.session.Session").
_MODEL_CLASSES: dict[str, Any] = {}
_FIELDS: dict[type, tuple[tuple[tuple[str, str, str], ...], frozenset[str]]] = {}
#: A model's fields as ask-sdk writes them: (attribute, payload key), in `deserialized_types` order.
_MODEL_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}
#: What each type name in the models' `deserialized_types` is (see `Serializer._plan`).
_PLANS: dict[str, tuple[str, Any]] = {}


def _model_fields(model: type) -> tuple[tuple[tuple[str, str, str], ...], frozenset[str]]:
    """A model's fields as ask-sdk reads them: (attribute, payload key, type) in the order of
    its `attribute_map` and then of the `deserialized_types` it does not name; and the payload
    keys they take."""
    found = _FIELDS.get(model)
    if found is None:
        types: dict[str, str] = model.deserialized_types  # type: ignore[attr-defined]
        names = {**getattr(model, "attribute_map", {})}
        names.update({k: k for k in types if k not in names})
        fields = tuple((name, key, types[name]) for name, key in names.items())
        found = _FIELDS[model] = (fields, frozenset(names.values()))
    return found
