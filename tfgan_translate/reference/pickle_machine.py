"""A pickle machine of our own: it builds only plain data, and holds what a hostile pickle can cost to bounds.

Python's `pickle.Unpickler`, even with `find_class` restricted to an allow-list, leaves a hostile file free to
rewrite what it built (BUILD sets attributes of any object), to nest objects without bound, and to make Python
hash or format them without bound (a tuple of ten references to a tuple of ten references ... is a few hundred
bytes, and hashing it takes 10**depth steps). `PickleMachine` reads the opcode stream itself, one opcode at a
time, and:

- builds only None, bools, ints (at most `MAX_INT_BYTES` bytes), floats, str, bytes, tuples, lists and dicts;
  what a subclass returns from `find_class`, `persistent_load` and `call` is held as an opaque leaf;
- hashes only scalars: a dict key must be None, a bool, an int, a float, a str or bytes;
- bounds the work: at most `MAX_OBJECTS` objects pushed, containers nested at most `MAX_DEPTH` deep, lines of
  the text opcodes at most `MAX_LINE` bytes, and no read past the end of the stream (so nothing is allocated
  for a length the file does not hold);
- never mutates a container once it sits inside another (a pickler never does; it is how a file would make a
  structure deeper after its depth was counted), and leaves BUILD to `build`, which refuses by default;
- refuses every opcode that runs code or makes instances (INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1/2/4), sets and
  out-of-band buffers, and names objects in its errors by type and size (`describe`), never by repr.

Errors are `MalformedPickle`, with one line saying what was found; the reader turns them into its own.

Example:

>>> import io, pickle
>>> PickleMachine(io.BytesIO(pickle.dumps({"step": [3, 4.5, "x"]}, protocol=2))).load()
{'step': [3, 4.5, 'x']}
"""

from __future__ import annotations

import codecs
import struct

MAX_OBJECTS = 1_000_000  # objects pushed in one pickle (a state dict of a GAN takes a few thousand)
MAX_DEPTH = 32  # containers inside containers (a state dict needs 4)
MAX_LINE = 65_536  # bytes in one line of a text opcode
MAX_INT_BYTES = 64  # bytes of one LONG1/LONG4 integer (and its decimal digits for the text LONG)

_SCALARS = (type(None), bool, int, float, str, bytes)


class MalformedPickle(Exception):
    """A pickle the machine refuses; the message says what was found, without the object's repr."""


class Truncated(MalformedPickle):
    """The stream ends inside the pickle."""


def describe(value) -> str:
    """What `value` is, in a few words, whatever it holds: its type and size, never its repr."""
    if value is None or isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):
        return str(value) if -(10**18) < value < 10**18 else f"an int of {value.bit_length()} bits"
    if isinstance(value, str):
        return repr(value[:60]) + (f"... ({len(value)} characters)" if len(value) > 60 else "")
    if isinstance(value, (bytes, tuple, list, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


# Opcodes that make instances, use the extension registry, sets and buffers: refused wherever they appear.
_REFUSED = {b"o": "an OBJ instance", b"\x81": "a NEWOBJ instance", b"\x92": "a NEWOBJ_EX instance",
            b"\x82": "an extension-registry reference", b"\x83": "an extension-registry reference",
            b"\x84": "an extension-registry reference", b"\x8f": "a set", b"\x90": "a set", b"\x91": "a frozenset",
            b"\x96": "a bytearray", b"\x97": "an out-of-band buffer", b"\x98": "an out-of-band buffer"}


# How an opcode's argument is read (those not listed read theirs themselves, or take none): a struct format ...
_PACKED = {
    b"\x80": "<B", b"\x95": "<Q", b"q": "<B", b"r": "<I", b"h": "<B", b"j": "<I",  # PROTO, FRAME, (LONG_)BINPUT/GET
    b"J": "<i", b"K": "<B", b"M": "<H", b"G": ">d",  # BININT, BININT1, BININT2, BINFLOAT
}
# ... a length in a struct format, then that many bytes ...
_COUNTED = {
    b"\x8a": "<B", b"\x8b": "<i",  # LONG1, LONG4
    b"T": "<i", b"U": "<B", b"X": "<I", b"\x8c": "<B", b"\x8d": "<Q",  # (SHORT_)BINSTRING, (SHORT_)BINUNICODE(8)
    b"B": "<I", b"C": "<B", b"\x8e": "<Q",  # BINBYTES, SHORT_BINBYTES, BINBYTES8
}
# ... or a line of text: INT, LONG, FLOAT, STRING, UNICODE, PUT, GET, PERSID.
_LINE = frozenset({b"I", b"L", b"F", b"S", b"V", b"p", b"g", b"P"})

_MARK = object()  # the MARK opcode's place on the stack


class PickleMachine:
    """Reads one pickle from `file` (binary, positioned at its start) and stops after its STOP opcode.

    Subclasses decide what globals, persistent ids, calls and BUILDs mean (`find_class`, `persistent_load`,
    `call`, `build`); by default each is refused.

    Args:
        file: a binary file object with `read`, `readline`, `tell` and `seek`.
    """

    def __init__(self, file):
        self._file = file
        start = file.tell()
        self._left = file.seek(0, 2) - start  # bytes from here to the end of the stream
        file.seek(start)
        self._stack, self._marks, self._memo = [], [], {}
        # id(container) -> nesting depth; `_containers` keeps them alive, so an id found here is a container's
        self._depth, self._containers = {}, []
        self._sealed = set()  # ids of containers that sit inside another
        self._pushed = 0

    # --- what subclasses decide
    def find_class(self, module: str, name: str):
        raise MalformedPickle(f"it names the global `{module}.{name}`")

    def persistent_load(self, pid):
        raise MalformedPickle(f"it holds a persistent id ({describe(pid)})")

    def call(self, func, args: tuple):
        raise MalformedPickle(f"it calls {describe(func)}")

    def build(self, obj, state):
        raise MalformedPickle(f"it sets the state of {describe(obj)} (BUILD)")

    # --- reading the stream
    def _read(self, n: int) -> bytes:
        if n > self._left:
            raise Truncated(f"an opcode asks for {n} bytes where {self._left} remain")
        data = self._file.read(n)
        if len(data) != n:
            raise Truncated(f"an opcode asks for {n} bytes where {len(data)} remain")
        self._left -= n
        return data

    def _line(self) -> bytes:
        data = self._file.readline(min(MAX_LINE, self._left) + 1)
        self._left -= len(data)
        if not data.endswith(b"\n"):
            if len(data) > MAX_LINE:
                raise MalformedPickle(f"a text opcode's line is longer than {MAX_LINE} bytes")
            raise Truncated("the stream ends inside a line")
        return data[:-1]

    def _unpack(self, fmt: str):
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    # --- the stack
    def _push(self, value, depth: int = 0):
        self._pushed += 1
        if self._pushed > MAX_OBJECTS:
            raise MalformedPickle(f"it builds more than {MAX_OBJECTS} objects")
        if isinstance(value, (tuple, list, dict)) and id(value) not in self._depth:  # a new one: `_nest` bounded it
            self._depth[id(value)] = depth
            self._containers.append(value)
        self._stack.append(value)

    def _mark(self):
        self._push(_MARK)
        self._marks.append(len(self._stack) - 1)

    def _pop(self):
        self._top()  # refuses an empty stack, or a MARK
        return self._stack.pop()

    def _top(self):
        if not self._stack or self._stack[-1] is _MARK:
            raise MalformedPickle("an opcode finds the stack empty")
        return self._stack[-1]

    def _pop_mark(self) -> list:
        if not self._marks:
            raise MalformedPickle("an opcode needs a MARK that is not there")
        at = self._marks.pop()
        items = self._stack[at + 1:]
        del self._stack[at:]
        return items

    def _nest(self, children) -> int:
        """Seals `children` (now inside a container) and returns the depth of a container holding them."""
        depth = 1
        for child in children:
            if isinstance(child, (tuple, list, dict)):
                self._sealed.add(id(child))
                depth = max(depth, self._depth[id(child)] + 1)
        if depth > MAX_DEPTH:
            raise MalformedPickle(f"it nests containers more than {MAX_DEPTH} deep")
        return depth

    def _container(self, kind, items):
        self._push(kind(items), self._nest(items))

    def _add(self, kind, items):
        """APPEND(S) and SETITEM(S): `items` (values, or keys and values) into the list or dict on top of the stack."""
        if kind is dict and len(items) % 2:
            raise MalformedPickle("SETITEMS has an odd number of items")
        target = self._top()
        if not isinstance(target, kind):
            raise MalformedPickle(f"it adds items to {describe(target)}, not to a {kind.__name__}")
        if id(target) in self._sealed:
            raise MalformedPickle(f"it adds items to a {kind.__name__} after placing it inside another container")
        keys, values = (items[::2], items[1::2]) if kind is dict else ((), items)
        for key in keys:
            if not isinstance(key, _SCALARS):
                raise MalformedPickle(f"a dict key is {describe(key)}; only None, bools, numbers, str and bytes are "
                                      "read as keys")
        self._depth[id(target)] = max(self._depth[id(target)], self._nest(values))
        if kind is dict:
            target.update(zip(keys, values))
        else:
            target.extend(values)

    def _get(self, index):
        if index not in self._memo:
            raise MalformedPickle(f"it refers to memo entry {describe(index)}, which was never stored")
        value = self._memo[index]
        self._push(value, self._depth.get(id(value), 0))

    def _put(self, index):
        if len(self._memo) >= MAX_OBJECTS:
            raise MalformedPickle(f"it memoises more than {MAX_OBJECTS} objects")
        self._memo[index] = self._top()

    def _number(self, line: bytes, kind=int):
        """The int (a LONG's trailing L dropped) or float of a text opcode's line."""
        digits = line.rstrip(b"L") if kind is int else line
        if len(digits) > 2 * MAX_INT_BYTES + 2:
            raise MalformedPickle(f"a text {kind.__name__} has {len(digits)} characters")
        try:
            return kind(digits)
        except ValueError:
            raise MalformedPickle(f"a text {kind.__name__} is not a number") from None

    def _string(self, line: bytes) -> str:
        if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in b"'\"":
            raise MalformedPickle("a STRING opcode's argument is not quoted")
        try:
            return codecs.escape_decode(line[1:-1])[0].decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise MalformedPickle("a STRING opcode's argument is not valid") from None

    def _text(self, data: bytes, codec: str = "utf-8") -> str:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            raise MalformedPickle("a string is not valid UTF-8") from None

    def _long(self, data: bytes) -> int:
        if len(data) > MAX_INT_BYTES:
            raise MalformedPickle(f"an integer has {len(data)} bytes, more than {MAX_INT_BYTES}")
        return int.from_bytes(data, "little", signed=True)

    def _global(self, module, name):
        if not (isinstance(module, str) and isinstance(name, str)):
            raise MalformedPickle(f"a global is named by {describe(module)} and {describe(name)}, not two str")
        self._push(self.find_class(module, name))

    def _reduce(self):
        args = self._pop()
        func = self._pop()
        if not isinstance(args, tuple):
            raise MalformedPickle(f"a call's arguments are {describe(args)}, not a tuple")
        value = self.call(func, args)
        if isinstance(value, (tuple, list, dict)) and value:
            raise MalformedPickle(f"a call returns {describe(value)}; calls may only make empty containers")
        self._push(value, 1)  # an empty container (the depth of anything else is not kept)

    def _build(self):
        state = self._pop()
        obj = self._top()
        if isinstance(obj, (tuple, list, dict)) and id(obj) in self._sealed:
            raise MalformedPickle("it sets the state of a container after placing it inside another")
        self.build(obj, state)

    def _refuse(self, what):
        raise MalformedPickle(f"it holds {what}, which a state dict never holds")

    def load(self):
        """Runs the pickle to its STOP opcode and returns the object it built."""
        ops = self._opcodes()
        while True:
            code = self._read(1)
            if code == b".":
                value = self._pop()
                if self._stack or self._marks:
                    raise MalformedPickle("it stops with objects left on its stack")
                return value
            op = ops.get(code)
            if op is None:
                raise MalformedPickle(f"it holds the opcode {code!r}, which this reader does not run")
            if code in _PACKED:
                op(self._unpack(_PACKED[code]))
            elif code in _COUNTED:
                n = self._unpack(_COUNTED[code])
                if n < 0:
                    raise MalformedPickle(f"an opcode declares a negative length ({n})")
                op(self._read(n))
            elif code in _LINE:
                op(self._line())
            else:
                op()

    def _opcodes(self):
        """Opcode -> what it does, given its argument where `_PACKED`, `_COUNTED` or `_LINE` read one."""
        push, text = self._push, self._text
        return {
            # framing and the memo
            b"\x80": self._proto,  # PROTO
            b"\x95": lambda size: None,  # FRAME: the machine reads opcode by opcode anyway
            b"(": self._mark,
            b"0": self._pop,  # POP
            b"1": self._pop_mark,  # POP_MARK
            b"2": lambda: push(self._top(), self._depth.get(id(self._top()), 0)),  # DUP
            **dict.fromkeys([b"q", b"r"], self._put),  # BINPUT, LONG_BINPUT
            b"p": lambda line: self._put(self._number(line)),  # PUT
            b"\x94": lambda: self._put(len(self._memo)),  # MEMOIZE
            **dict.fromkeys([b"h", b"j"], self._get),  # BINGET, LONG_BINGET
            b"g": lambda line: self._get(self._number(line)),  # GET
            # scalars
            b"N": lambda: push(None),
            b"\x88": lambda: push(True),
            b"\x89": lambda: push(False),
            **dict.fromkeys([b"J", b"K", b"M", b"G", b"B", b"C", b"\x8e"], push),  # BININT*, BINFLOAT, BINBYTES*
            **dict.fromkeys([b"T", b"U", b"X", b"\x8c", b"\x8d"], lambda data: push(text(data))),  # BINSTRING ...
            **dict.fromkeys([b"\x8a", b"\x8b"], lambda data: push(self._long(data))),  # LONG1, LONG4
            b"I": lambda line: push(line == b"01" if line in (b"00", b"01") else self._number(line)),  # INT
            b"L": lambda line: push(self._number(line)),  # LONG
            b"F": lambda line: push(self._number(line, float)),  # FLOAT
            b"S": lambda line: push(self._string(line)),  # STRING (quoted)
            b"V": lambda line: push(text(line, "raw-unicode-escape")),  # UNICODE
            # containers
            b")": lambda: push((), 1),  # EMPTY_TUPLE
            b"t": lambda: self._container(tuple, self._pop_mark()),  # TUPLE
            b"\x85": lambda: self._container(tuple, self._pop_n(1)),  # TUPLE1
            b"\x86": lambda: self._container(tuple, self._pop_n(2)),  # TUPLE2
            b"\x87": lambda: self._container(tuple, self._pop_n(3)),  # TUPLE3
            b"]": lambda: push([], 1),  # EMPTY_LIST
            b"l": lambda: self._container(list, self._pop_mark()),  # LIST
            b"a": lambda: self._add(list, [self._pop()]),  # APPEND
            b"e": lambda: self._add(list, self._pop_mark()),  # APPENDS
            b"}": lambda: push({}, 1),  # EMPTY_DICT
            b"d": lambda: self._new_dict(self._pop_mark()),  # DICT
            b"s": lambda: self._add(dict, self._pop_n(2)),  # SETITEM
            b"u": lambda: self._add(dict, self._pop_mark()),  # SETITEMS
            # what the subclass decides
            b"c": lambda: self._global(text(self._line()), text(self._line())),  # GLOBAL
            b"\x93": lambda: self._global(*reversed([self._pop(), self._pop()])),  # STACK_GLOBAL
            b"P": lambda line: push(self.persistent_load(text(line, "ascii"))),  # PERSID
            b"Q": lambda: push(self.persistent_load(self._pop())),  # BINPERSID
            b"R": self._reduce,  # REDUCE
            b"b": self._build,  # BUILD
            b"i": self._refuse_inst,  # INST
            **{code: (lambda what=what: self._refuse(what)) for code, what in _REFUSED.items()},
        }

    def _proto(self, protocol):
        if protocol > 5:
            raise MalformedPickle(f"it declares pickle protocol {protocol}; protocols 0 to 5 exist")

    def _pop_n(self, n: int) -> list:
        return [self._pop() for _ in range(n)][::-1]

    def _new_dict(self, items):
        self._push({}, 1)
        self._add(dict, items)

    def _refuse_inst(self):
        module, name = self._text(self._line()), self._text(self._line())
        self.find_class(module, name)  # a subclass names what it refuses
        self._refuse(f"an INST instance of `{module}.{name}`")


__all__ = ["MAX_DEPTH", "MAX_OBJECTS", "MalformedPickle", "PickleMachine", "Truncated", "describe"]
