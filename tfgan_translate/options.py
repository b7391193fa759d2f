"""Option fields: a dataclass field declared once with its help, flag and valid range, and their base class.

`option(default, help, ...)` declares a field of an `Options` dataclass: its type (the choice lists are the
`Literal` types of `choices.py`), its default, its help text and its valid range. `Options` checks every
field's choices and range on construction, so a notebook's value and a flag's are refused alike. The
command line (`cli.add_flags`) makes one argument per field, named by `flag_name` and read from text by
`text_parser`; the run configs (`config.py`) and each subcommand's options (`app/command_options.py`) are
`Options` dataclasses.

Example:

>>> @dataclasses.dataclass(frozen=True)
... class AdamOptions(Options):
...     lr: float = option(2e-4, "Adam learning rate", gt=0)
...     amsgrad: bool = option(False, "the AMSGrad variant", switch=True)
>>> AdamOptions().replace(lr=1e-3).lr
0.001
>>> flag_name(AdamOptions.__dataclass_fields__["amsgrad"])
'--amsgrad'
>>> AdamOptions(lr=0.0)
Traceback (most recent call last):
ValueError: Invalid value for `lr`. Received: lr=0.0. Expected a finite number > 0.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import operator
import types
import typing

from tfgan_translate.choices import check_choice, literal_values


def option(default, help: str, *, flag: str | None = None, metavar: str | None = None, switch: bool = False,
           group: str | None = None, positional: bool = False, required: bool = False, cli: bool = True,
           gt: float | None = None, ge: float | None = None, lt: float | None = None):
    """A field with its help text, its command-line flag and its valid range, declared once.

    The command line derives the rest from the field's type: a `Literal` gives the flag's choices, `bool`
    a `--flag true|false` value (or no value with `switch=True`), `int | None` an integer or "none", and
    `tuple[Literal[...], ...]` or `tuple[int, ...]` a comma-separated, repeatable list.

    Args:
        default: the field's default value.
        help: str. One line for `--help` (and for the reader of the class). "(default: ...)" is appended
            unless the text already speaks of the default or the flag is required.
        flag: str or None. The flag's name when it is not `--` + the field's name with `_` as `-`
            (e.g. "--beta1" for `beta_1`). Defaults to None.
        metavar: str or None. The value's name in `--help` (default: the field's name in capitals).
        switch: bool. A flag that takes no value and sets True (`--jit`). Defaults to False.
        group: str or None. Fields of the same group are mutually exclusive and one is required
            (`--checkpoint` or `--model`). Defaults to None.
        positional: bool. A positional argument instead of a flag. Defaults to False.
        required: bool. The command line needs the flag (`train`: unless it resumes a run). Defaults to False.
        cli: bool. False for fields the command line does not expose. Defaults to True.
        gt, ge, lt: float or None. A number must be finite and `> gt`, `>= ge`, `< lt` (None, for an
            `int | None` field, is always allowed). Defaults to None: any finite number.

    Returns:
        A `dataclasses.field` whose metadata holds these settings.

    Example:

    >>> lr = option(2e-4, "Adam learning rate", gt=0)  # as `config.Pix2PixConfig.lr` is declared
    >>> lr.default, lr.metadata["help"], lr.metadata["bounds"]
    (0.0002, 'Adam learning rate', {'gt': 0})
    """
    bounds = {key: value for key, value in (("gt", gt), ("ge", ge), ("lt", lt)) if value is not None}
    metadata = dict(help=help, flag=flag, metavar=metavar, switch=switch, group=group, positional=positional,
                    required=required, cli=cli, bounds=bounds)
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(field: dataclasses.Field) -> str:
    """A field's command-line flag: its `flag=`, else `--` + the name with `_` as `-` (`n_layers_D`: `--n-layers-D`)."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def override(base, name: str, default):
    """The field `name` of `Options` class `base` (help, flag, range) with another default, for a subclass.

    `CycleGANConfig`'s `netG: str = override(_TrainingConfig, "netG", "resnet_9blocks")` keeps the help text
    and flag of the shared field.
    """
    return dataclasses.field(default=default, metadata=base.__dataclass_fields__[name].metadata)


_BOUNDS = {"gt": (operator.gt, ">"), "ge": (operator.ge, ">="), "lt": (operator.lt, "<")}


def _check_range(name: str, value, bounds: dict, *, integer: bool, optional: bool) -> None:
    """Raises ValueError unless `value` is a finite number within `bounds`."""
    number = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if number and all(_BOUNDS[key][0](value, bound) for key, bound in bounds.items()):
        return
    limits = " and ".join(f"{sign} {bounds[key]:g}" for key, (_, sign) in _BOUNDS.items() if key in bounds)
    expected = " ".join(filter(None, ["an integer" if integer else "a finite number", limits]))
    raise ValueError(f"Invalid value for `{name}`. Received: {name}={value!r}. "
                     f"Expected {expected}{' or None' if optional else ''}.")


def unwrap_optional(annotation) -> tuple[typing.Any, bool]:
    """(the annotation without None, whether None is allowed): `int | None` -> (int, True)."""
    members = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(members) == 2 and type(None) in members:
        return next(arg for arg in members if arg is not type(None)), True
    return annotation, False


def optional_int(text: str) -> int | None:
    """An `int | None` field's text: an integer, or "none"/"auto" for None (a literal 0 is 0)."""
    return None if text.lower() in ("none", "auto") else int(text)


def boolean(text: str) -> bool:
    """A `bool` field's text: true/false, yes/no, on/off or 1/0."""
    if text.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"expected true/false, got {text!r}")
    return text.lower() in ("1", "true", "yes", "on")


def names(text: str) -> list[str]:
    """A `tuple[Literal[...], ...]` field's text: one name or a comma-separated list (checked by the class)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def integers(text: str) -> list[int]:
    """A `tuple[int, ...]` field's text: one integer or a comma-separated list ("0,4,8")."""
    return [int(item) for item in names(text)]


def text_parser(annotation):
    """How a field of type `annotation` is read from text (the command line): a callable str -> value.

    Example:

    >>> text_parser(int | None)("0"), text_parser(int | None)("none"), text_parser(bool)("false")
    (0, None, False)
    """
    annotation, optional = unwrap_optional(annotation)
    if literal_values(annotation) is not None:
        return type(literal_values(annotation)[0])
    if typing.get_origin(annotation) is tuple:
        return integers if typing.get_args(annotation)[0] is int else names
    return {bool: boolean, int: optional_int if optional else int}.get(annotation, annotation)


def _check_field(name: str, value, annotation, bounds: dict) -> None:
    """Checks one value against its field's type: a Literal's choices, a number's range."""
    annotation, optional = unwrap_optional(annotation)
    if value is None and optional:
        return
    allowed = literal_values(annotation)
    if allowed is not None:
        check_choice(name, value, allowed)
    elif typing.get_origin(annotation) is tuple and literal_values(typing.get_args(annotation)[0]) is not None:
        for item in value:
            check_choice(name, item, literal_values(typing.get_args(annotation)[0]))
    elif annotation in (int, float):
        _check_range(name, value, bounds, integer=annotation is int, optional=optional)


@dataclasses.dataclass(frozen=True)
class Options:
    """Base of the dataclasses of `option` fields: validation on construction, and `replace`.

    Construction checks each field's choices and range, then `_validate` (cross-field checks). The run
    configs build on it, and so does each subcommand's options class, wherever it is declared
    (`cli.COMMANDS` takes any).
    """

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_field(field.name, getattr(self, field.name), hints[field.name], field.metadata.get("bounds", {}))
        self._validate()

    def _validate(self) -> None:
        """Cross-field checks of a concrete class; overridden by subclasses."""

    def replace(self, **changes):
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)
