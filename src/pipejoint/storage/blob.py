"""DataJoint's blob wire format: pack Python/numpy values to bytes and back.

Blobs written here are read by DataJoint (Python 0.14/2.x and MATLAB's mYm) and
blobs written by them are read here, so the bytes must match DataJoint's.

Layout: an optional ``ZL123\\0`` + uint64 length + zlib envelope around a
protocol tag (``mYm\\0`` when the value uses only what MATLAB understands,
``dj0\\0`` otherwise) followed by one item: a one-byte type code and its
payload. All integers are little-endian; array data is in Fortran order.

Choices worth knowing (each one keeps DataJoint able to read what we write):

* Compression follows DataJoint's rule (try zlib when the envelope is longer
  than 1000 bytes, keep it only if it is shorter), which reproduces its bytes
  exactly. For envelopes above ``COMPRESS_PROBE_BYTES`` we first compress a
  few evenly spaced samples; if they shrink by less than
  ``1 - COMPRESS_PROBE_RATIO`` (random floats shrink by 4-7 %) we store the
  blob uncompressed instead of spending seconds in zlib for a few percent.
  DataJoint reads both forms, so only the bytes differ, never the value.
* Decoded numeric arrays are read-only views into the blob (zero copy), as
  in DataJoint; call ``.copy()`` to modify one.
* Where DataJoint's own output is wrong or it cannot write a value, we do the
  correct thing instead of copying the fault: char (``S1``) matrices are
  written in Fortran order like every other array (DataJoint writes C
  order), non-native byte orders are converted to little-endian (DataJoint
  refuses them), MATLAB chars are decoded as full UTF-16 code units
  (DataJoint keeps the low byte and fails above ASCII), and object arrays
  whose elements are equal-length sequences keep their shape.
* Like DataJoint we drop what the format cannot hold: time zones of
  datetimes, masks of masked arrays (masked slots get the fill value), and
  the subclass of matrices, named tuples and ordered dicts.
"""

import collections.abc
import datetime
import decimal
import math
import struct
import uuid
import zlib

import numpy as np

from ..errors import BlobError

__all__ = ["pack", "unpack", "MatCell", "MatStruct", "BlobError", "use_32bit_dims"]

#: Read dimensions, counts and lengths as uint32, for blobs from 32-bit mYm builds.
use_32bit_dims = False

#: Above this envelope size, probe compressibility before compressing everything.
COMPRESS_PROBE_BYTES = 1 << 20
#: Skip compression when probe samples compress to more than this fraction.
COMPRESS_PROBE_RATIO = 0.9
#: Four 4 kB windows (start, thirds, end) estimate zlib's ratio as well as eight do (within 0.003
#: on noise, integer recordings, ramps and smooth signals) at less than half the cost: the probe
#: of a 1 MB blob attribute takes ~0.3 ms instead of ~0.6 ms, beside ~3.5 ms to send the bytes.
_PROBE_SAMPLES = 4
_PROBE_WINDOW = 1 << 12

_ZL_PREFIX = b"ZL123\0"
_MYM = b"mYm\0"
_DJ0 = b"dj0\0"

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_TWO_U32 = struct.Struct("<II")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")
_DATETIME = struct.Struct("<iq")


class MatCell(np.ndarray):
    """A MATLAB cell array: an object ndarray whose elements are any values."""


class MatStruct(np.recarray):
    """A MATLAB struct array: a record array whose fields hold objects."""


# --- type tables -------------------------------------------------------------

_CHAR_ID = 4
_OBJECT_ID = 5
# MATLAB mxClassID for plain numeric arrays, keyed by numpy (kind, itemsize).
_NUMERIC_IDS = {
    ("b", 1): 3,
    ("f", 8): 6,
    ("f", 4): 7,
    ("i", 1): 8,
    ("u", 1): 9,
    ("i", 2): 10,
    ("u", 2): 11,
    ("i", 4): 12,
    ("u", 4): 13,
    ("i", 8): 14,
    ("u", 8): 15,
}
# DataJoint's extension ids for datetime64, one per unit.
_DATETIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")
_DATETIME_BASE_ID = 65536
_DATETIME_IDS = {unit: _DATETIME_BASE_ID + i for i, unit in enumerate(_DATETIME_UNITS)}

_READ_DTYPES = {tid: np.dtype(f"<{kind}{size}") for (kind, size), tid in _NUMERIC_IDS.items()}
_READ_DTYPES[3] = np.dtype(bool)
_READ_DTYPES.update({tid: np.dtype(f"<M8[{unit}]") for unit, tid in _DATETIME_IDS.items()})


def _array_type_id(dtype):
    """Return the mxClassID for a real numeric/bool/datetime dtype, or None."""
    if dtype.kind == "M":
        unit, count = np.datetime_data(dtype)
        return _DATETIME_IDS.get(unit) if count == 1 else None
    return _NUMERIC_IDS.get((dtype.kind, dtype.itemsize))


def _fortran_bytes(array):
    """Array data in Fortran order as a flat byte view, copying only if needed.

    The transpose of an F-contiguous array is C-contiguous and its C-order bytes
    are the original's F-order bytes, so contiguous input costs no copy.
    """
    flat = np.ascontiguousarray(array.T).reshape(-1)
    return memoryview(flat.view(np.uint8))


def _little_endian(array):
    wanted = array.dtype.newbyteorder("<")
    return array if array.dtype == wanted else array.astype(wanted)


# --- writer ------------------------------------------------------------------


class _Writer:
    """Collects encoded chunks; joined once at the end so data is copied once."""

    def __init__(self):
        self.chunks = [_MYM]  # slot 0 is the protocol, settled at the end
        self.size = len(_MYM)
        self.dj0 = False  # set when any part of the value needs the dj0 protocol

    def put(self, chunk):
        self.chunks.append(chunk)
        self.size += len(chunk)

    def envelope(self, obj):
        self.value(obj)
        self.chunks[0] = _DJ0 if self.dj0 else _MYM
        return b"".join(self.chunks)

    def item(self, obj):
        """A nested value preceded by its uint64 byte length."""
        slot = len(self.chunks)
        self.chunks.append(b"")
        start = self.size
        self.value(obj)
        self.chunks[slot] = _U64.pack(self.size - start)
        self.size += 8

    def value(self, obj):
        handler = _EXACT_PACKERS.get(type(obj)) or _classify(obj)
        handler(self, obj)

    # MATLAB-compatible items ---------------------------------------------

    def pack_ndarray(self, a):
        if isinstance(a, np.ma.MaskedArray):
            a = a.filled()  # masked slots hold the fill value, as in DataJoint
        a = np.asarray(a)  # np.matrix and other subclasses are packed as plain arrays
        if a.dtype.fields is None:
            self.pack_array(a)
        else:
            self.dj0 = True
            if not a.dtype.fields:
                raise BlobError("Cannot pack a structured array with no fields")
            self.pack_recarray(a)

    def pack_array(self, a):
        dtype = a.dtype
        header = _U64.pack(a.ndim) + struct.pack(f"<{a.ndim}Q", *a.shape)
        if dtype.kind in "OU":
            self.put(b"A" + header + _TWO_U32.pack(_OBJECT_ID, 0))
            for element in a.ravel(order="F").tolist():
                self.item(element)
            self.dj0 = True
            return
        if dtype == np.dtype("S1"):
            self.put(b"A" + header + _TWO_U32.pack(_CHAR_ID, 0))
            self.put(_fortran_bytes(a.view(np.uint8).astype("<u2")))  # MATLAB chars are UTF-16
            return
        is_complex = dtype.kind == "c"
        real_dtype = np.dtype(f"f{dtype.itemsize // 2}") if is_complex else dtype
        type_id = _array_type_id(real_dtype) if dtype.kind in "biufcM" else None
        if type_id is None:
            raise BlobError(f"Cannot pack numpy arrays of dtype {dtype} (type ambiguous or unknown)")
        if dtype.kind == "M" or a.ndim == 0:
            self.dj0 = True  # mYm knows neither datetimes nor 0-d arrays
        self.put(b"A" + header + _TWO_U32.pack(type_id, is_complex))
        if is_complex:
            self.put(_fortran_bytes(_little_endian(a.real)))
            self.put(_fortran_bytes(_little_endian(a.imag)))
        else:
            self.put(_fortran_bytes(_little_endian(a)))

    def pack_cell(self, a):
        self.put(b"C" + struct.pack(f"<{a.ndim + 1}Q", a.ndim, *a.shape))
        for element in np.asarray(a).ravel(order="F"):  # numpy scalars stay numpy scalars
            self.item(element)

    def pack_struct(self, a):
        names = a.dtype.names
        if not names:
            raise BlobError("Cannot pack a MatStruct without fields")
        self.put(b"S" + struct.pack(f"<{a.ndim + 1}Q", a.ndim, *a.shape) + _U32.pack(len(names)) + _field_names(names))
        flat = np.asarray(a).ravel(order="F")
        columns = [flat[name] for name in names]
        for i in range(flat.size):
            for column in columns:
                self.item(column[i])

    # dj0 items --------------------------------------------------------------

    def pack_recarray(self, a):
        names = a.dtype.names
        self.put(b"F" + _U32.pack(len(names)) + _field_names(names))
        for name in names:
            field = a[name]
            if field.dtype.fields:
                self.pack_recarray(field)
            else:
                self.pack_array(field)

    def pack_scalar_array(self, x):
        self.dj0 = True
        self.pack_array(np.asarray(x))

    def pack_none(self, _):
        self.dj0 = True
        self.put(b"\xff")

    def pack_bool(self, v):
        self.dj0 = True
        self.put(b"\x0b\x01" if v else b"\x0b\x00")

    def pack_int(self, v):
        self.dj0 = True
        n_bytes = v.bit_length() // 8 + 1
        if n_bytes > 0xFFFF:
            raise BlobError("Cannot pack integers longer than 65535 bytes")
        self.put(b"\x0a" + _U16.pack(n_bytes) + v.to_bytes(n_bytes, "little", signed=True))

    def pack_float(self, v):
        self.dj0 = True
        self.put(b"\x0d" + _F64.pack(v))

    def pack_complex(self, v):
        self.dj0 = True
        self.put(b"\x0c" + _C128.pack(v.real, v.imag))

    def pack_str(self, s):
        self.dj0 = True
        try:
            data = s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise BlobError(f"Cannot pack a str that is not valid Unicode: {e}") from None
        self.put(b"\x05" + _U64.pack(len(data)))
        self.put(data)

    def pack_bytes(self, b):
        self.dj0 = True
        self.put(b"\x06" + _U64.pack(len(b)))
        self.put(bytes(b))

    def pack_decimal(self, d):
        self.dj0 = True
        text = str(d).encode("ascii")
        self.put(b"d" + _U64.pack(len(text)) + text)

    def pack_datetime(self, d):
        self.dj0 = True
        if isinstance(d, datetime.datetime):
            date, time = d.date(), d.time()
        elif isinstance(d, datetime.date):
            date, time = d, None
        else:
            date, time = None, d
        date_code = -1 if date is None else date.year * 10000 + date.month * 100 + date.day
        time_code = -1
        if time is not None:
            time_code = (time.hour * 10000 + time.minute * 100 + time.second) * 1_000_000 + time.microsecond
        self.put(b"t" + _DATETIME.pack(date_code, time_code))

    def pack_uuid(self, u):
        self.dj0 = True
        self.put(b"u" + u.bytes)

    def _sequence(self, code, items):
        self.dj0 = True
        self.put(code + _U64.pack(len(items)))
        for element in items:
            self.item(element)

    def pack_tuple(self, t):
        self._sequence(b"\x01", t)

    def pack_list(self, t):
        self._sequence(b"\x02", t)

    def pack_set(self, t):
        self._sequence(b"\x03", t)

    def pack_dict(self, d):
        self.dj0 = True
        self.put(b"\x04" + _U64.pack(len(d)))
        for key, val in d.items():
            self.item(key)
            self.item(val)


def _field_names(names):
    return "\0".join(names).encode() + b"\0"


# Fast path for the common exact types; anything else goes through _classify,
# which follows DataJoint's isinstance order so subclasses land where they do there.
_EXACT_PACKERS = {
    np.ndarray: _Writer.pack_ndarray,
    MatCell: _Writer.pack_cell,
    MatStruct: _Writer.pack_struct,
    type(None): _Writer.pack_none,
    bool: _Writer.pack_bool,
    int: _Writer.pack_int,
    float: _Writer.pack_float,
    complex: _Writer.pack_complex,
    str: _Writer.pack_str,
    bytes: _Writer.pack_bytes,
    bytearray: _Writer.pack_bytes,
    list: _Writer.pack_list,
    tuple: _Writer.pack_tuple,
    dict: _Writer.pack_dict,
    set: _Writer.pack_set,
    frozenset: _Writer.pack_set,
    decimal.Decimal: _Writer.pack_decimal,
    uuid.UUID: _Writer.pack_uuid,
    datetime.datetime: _Writer.pack_datetime,
    datetime.date: _Writer.pack_datetime,
    datetime.time: _Writer.pack_datetime,
}

_CLASSIFY_ORDER = (
    (MatCell, _Writer.pack_cell),
    (MatStruct, _Writer.pack_struct),
    (np.ndarray, _Writer.pack_ndarray),
    (bool, _Writer.pack_bool),
    (np.number, _Writer.pack_scalar_array),  # numpy scalars before int/float: np.float64 is a float
    ((np.datetime64, np.bool_), _Writer.pack_scalar_array),
    (int, _Writer.pack_int),
    (complex, _Writer.pack_complex),
    (float, _Writer.pack_float),
    ((datetime.datetime, datetime.date, datetime.time), _Writer.pack_datetime),
    (decimal.Decimal, _Writer.pack_decimal),
    (uuid.UUID, _Writer.pack_uuid),
    (collections.abc.Mapping, _Writer.pack_dict),
    (str, _Writer.pack_str),
    ((bytes, bytearray), _Writer.pack_bytes),
    (collections.abc.MutableSequence, _Writer.pack_list),
    (collections.abc.Sequence, _Writer.pack_tuple),
    (collections.abc.Set, _Writer.pack_set),
)


def _classify(obj):
    for kind, handler in _CLASSIFY_ORDER:
        if isinstance(obj, kind):
            return handler
    raise BlobError(f"Packing object of type {type(obj).__module__}.{type(obj).__qualname__} is not supported")


# --- compression -------------------------------------------------------------


def _worth_compressing(envelope, probe_bytes=None):
    """Cheap guess for big envelopes: compress samples and look at the ratio."""
    size = len(envelope)
    if size <= (COMPRESS_PROBE_BYTES if probe_bytes is None else probe_bytes):
        return True
    view = memoryview(envelope)
    step = (size - _PROBE_WINDOW) // (_PROBE_SAMPLES - 1)
    raw = packed = 0
    for i in range(_PROBE_SAMPLES):
        sample = view[i * step : i * step + _PROBE_WINDOW]
        raw += len(sample)
        packed += len(zlib.compress(sample, 1))  # level 1: a quick estimate
    return packed < COMPRESS_PROBE_RATIO * raw


def pack(obj, compress=True, probe_bytes=None):
    """Encode ``obj`` as a DataJoint blob.

    ``compress`` allows the zlib envelope for blobs longer than 1000 bytes
    when it makes them shorter. ``probe_bytes`` overrides COMPRESS_PROBE_BYTES (blob
    attributes probe from 64 kB on, so 1 MB arrays of noise skip zlib). Raises BlobError
    for values the format cannot hold.
    """
    try:
        envelope = _Writer().envelope(obj)
    except RecursionError:
        raise BlobError("Cannot pack a value that is nested too deeply or contains itself") from None
    if compress and len(envelope) > 1000 and _worth_compressing(envelope, probe_bytes):
        compressed = _ZL_PREFIX + _U64.pack(len(envelope)) + zlib.compress(envelope)
        if len(compressed) < len(envelope):
            return compressed
    return envelope


# --- reader ------------------------------------------------------------------


class _Reader:
    """Walks a blob with a position; slices are memoryviews, arrays are views."""

    def __init__(self, data, squeeze=False):
        self.data = data  # bytes, kept for find()
        self.view = memoryview(data)
        self.end = len(data)
        self.pos = 0
        self.squeeze = squeeze
        self.dim = _U32 if use_32bit_dims else _U64

    # primitives -----------------------------------------------------------

    def need(self, n_bytes):
        if n_bytes > self.end - self.pos:
            raise BlobError(
                f"Invalid blob: needs {n_bytes} bytes at offset {self.pos} but only "
                f"{self.end - self.pos} remain (truncated or corrupt)"
            )

    def fixed(self, fmt):
        self.need(fmt.size)
        values = fmt.unpack_from(self.view, self.pos)
        self.pos += fmt.size
        return values

    def size(self):
        """A dimension, count or length (uint64, or uint32 for old mYm)."""
        return self.fixed(self.dim)[0]

    def sizes(self, count):
        self.need(count * self.dim.size)
        return self.fixed(struct.Struct(f"<{count}{self.dim.format[-1]}"))

    def take(self, n_bytes):
        self.need(n_bytes)
        self.pos += n_bytes
        return self.view[self.pos - n_bytes : self.pos]

    def cstring(self):
        end = self.data.find(b"\0", self.pos, self.end)
        if end < 0:
            raise BlobError("Invalid blob: unterminated name")
        text = self.data[self.pos : end]
        self.pos = end + 1
        return text

    def name(self):
        try:
            return self.cstring().decode()
        except UnicodeDecodeError:
            raise BlobError("Invalid blob: field name is not UTF-8") from None

    def numbers(self, dtype, count):
        self.need(count * dtype.itemsize)
        data = np.frombuffer(self.view, dtype=dtype, count=count, offset=self.pos)
        self.pos += count * dtype.itemsize
        return data

    def min_items(self, count, items_each=1):
        """Reject counts the remaining bytes cannot hold before allocating for them."""
        self.need(count * items_each * (self.dim.size + 1))

    def shape(self):
        return self.sizes(self.size())

    @staticmethod
    def reshaped(data, shape):
        """data in Fortran order with ``shape``; a corrupt shape numpy cannot make is a BlobError."""
        try:
            return data.reshape(shape, order="F")
        except ValueError as error:  # e.g. a zero-size array whose other dimensions overflow
            raise BlobError(f"Invalid blob: array shape {tuple(shape)} is impossible ({error})") from None

    def squeezed(self, array, to_scalar=True):
        if not self.squeeze:
            return array
        array = array.squeeze()
        return array.item() if to_scalar and array.ndim == 0 else array

    # items ------------------------------------------------------------------

    def item(self, n_bytes=None):
        start = self.pos
        code = self.fixed(_U8)[0]
        reader = _READERS.get(code)
        if reader is None:
            raise BlobError(f'Unknown data structure code "{chr(code)}" (0x{code:02x}) in blob')
        value = reader(self)
        if n_bytes is not None and self.pos - start != n_bytes:
            raise BlobError("Blob length check failed! Invalid blob")
        return value

    def sized_item(self):
        return self.item(self.size())

    def read_array(self):
        shape = self.shape()
        count = math.prod(shape)
        type_id, is_complex = self.fixed(_TWO_U32)
        if type_id == _OBJECT_ID:
            self.min_items(count)
            data = np.empty(count, dtype=object)
            for i in range(count):
                data[i] = self.sized_item()
        elif type_id == _CHAR_ID:
            return self.squeezed(self.read_chars(shape, count))
        elif type_id in _READ_DTYPES:
            dtype = _READ_DTYPES[type_id]
            data = self.numbers(dtype, count)
            if is_complex:
                imag = self.numbers(dtype, count)
                out = np.empty(count, dtype=np.result_type(dtype, 1j))
                out.real, out.imag = data, imag
                data = out
        else:
            raise BlobError(f"Cannot read arrays of MATLAB class id {type_id}")
        if not shape and type_id != _OBJECT_ID:
            return self.squeezed(data[0])  # DataJoint gives 0-d numbers back as numpy scalars
        return self.squeezed(self.reshaped(data, shape))

    def read_chars(self, shape, count):
        """MATLAB char array; a row or vector becomes a 1-element str array, as DataJoint does."""
        codes = self.numbers(np.dtype("<u2"), count)
        chars = codes.astype("<u4").view("<U1")
        if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
            if count == 0:
                return np.array([""])
            return chars.view(f"<U{count}")
        return self.reshaped(chars, shape)

    def read_cell(self):
        shape = self.shape()
        count = math.prod(shape)
        self.min_items(count)
        data = np.empty(count, dtype=object)
        for i in range(count):
            data[i] = self.sized_item()
        if count == 0:
            return data.view(MatCell)  # DataJoint returns empty cells as shape (0,)
        return self.squeezed(self.reshaped(data, shape), to_scalar=False).view(MatCell)

    def read_struct(self):
        shape = self.shape()
        count = math.prod(shape)
        n_fields = self.fixed(_U32)[0]
        if not n_fields:
            return np.array(None)
        names = [self.name() for _ in range(n_fields)]
        self.min_items(count, n_fields)
        columns = [np.empty(count, dtype=object) for _ in names]
        for i in range(count):
            for column in columns:
                column[i] = self.sized_item()
        try:
            records = np.empty(count, dtype=[(name, object) for name in names])
        except (ValueError, TypeError) as e:
            raise BlobError(f"Invalid blob: bad struct field names {names}: {e}") from None
        for name, column in zip(names, columns):
            records[name] = column
        return self.squeezed(self.reshaped(records, shape), to_scalar=False).view(MatStruct)

    def read_recarray(self):
        n_fields = self.fixed(_U32)[0]
        if not n_fields:
            return np.array(None)
        names = [self.name() for _ in range(n_fields)]
        fields = [np.asarray(self.item()) for _ in names]
        # Records take the shape of the flattest field; deeper fields are sub-arrays.
        shape = min((f.shape for f in fields), key=len)
        try:
            dtype = np.dtype([(name, f.dtype, f.shape[len(shape) :]) for name, f in zip(names, fields)])
            records = np.empty(shape, dtype=dtype)
            for name, f in zip(names, fields):
                records[name] = f
        except (ValueError, TypeError) as e:
            raise BlobError(f"Invalid blob: record array fields do not fit together: {e}") from None
        return records.view(np.recarray)

    def read_sparse(self):
        raise BlobError("Sparse MATLAB arrays are not supported")

    def read_none(self):
        return None

    def read_tuple(self):
        return tuple(self.sized_item() for _ in range(self.size()))

    def read_list(self):
        return [self.sized_item() for _ in range(self.size())]

    def read_set(self):
        try:
            return {self.sized_item() for _ in range(self.size())}
        except TypeError as e:
            raise BlobError(f"Invalid blob: set element is not hashable: {e}") from None

    def read_dict(self):
        result = {}
        for _ in range(self.size()):
            key = self.sized_item()
            try:
                result[key] = self.sized_item()
            except TypeError as e:
                raise BlobError(f"Invalid blob: dict key is not hashable: {e}") from None
        return result

    def read_str(self):
        try:
            return str(self.take(self.size()), "utf-8")
        except UnicodeDecodeError as e:
            raise BlobError(f"Invalid blob: string is not UTF-8: {e}") from None

    def read_bytes(self):
        return bytes(self.take(self.size()))

    def read_int(self):
        return int.from_bytes(self.take(self.fixed(_U16)[0]), "little", signed=True)

    def read_bool(self):
        return bool(self.fixed(_U8)[0])

    def read_complex(self):
        return complex(*self.fixed(_C128))

    def read_float(self):
        return self.fixed(_F64)[0]

    def read_decimal(self):
        text = self.read_str()
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise BlobError(f"Invalid blob: bad decimal {text!r}") from None

    def read_datetime(self):
        date_code, time_code = self.fixed(_DATETIME)
        try:
            date = None
            if date_code >= 0:
                date = datetime.date(date_code // 10000, date_code // 100 % 100, date_code % 100)
            time = None
            if time_code >= 0:
                time = datetime.time(
                    time_code // 10_000_000_000 % 100,
                    time_code // 100_000_000 % 100,
                    time_code // 1_000_000 % 100,
                    time_code % 1_000_000,
                )
        except ValueError as e:
            raise BlobError(f"Invalid blob: bad date/time {date_code}/{time_code}: {e}") from None
        if date is not None and time is not None:
            return datetime.datetime.combine(date, time)
        return date if time is None else time

    def read_uuid(self):
        return uuid.UUID(bytes=bytes(self.take(16)))


_READERS = {
    ord("A"): _Reader.read_array,
    ord("P"): _Reader.read_sparse,
    ord("S"): _Reader.read_struct,
    ord("C"): _Reader.read_cell,
    ord("F"): _Reader.read_recarray,
    0xFF: _Reader.read_none,
    0x01: _Reader.read_tuple,
    0x02: _Reader.read_list,
    0x03: _Reader.read_set,
    0x04: _Reader.read_dict,
    0x05: _Reader.read_str,
    0x06: _Reader.read_bytes,
    0x0A: _Reader.read_int,
    0x0B: _Reader.read_bool,
    0x0C: _Reader.read_complex,
    0x0D: _Reader.read_float,
    ord("d"): _Reader.read_decimal,
    ord("t"): _Reader.read_datetime,
    ord("u"): _Reader.read_uuid,
}


def _as_bytes(blob):
    """bytes to read from, without copying when a memoryview wraps a whole bytes object."""
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, memoryview):
        if isinstance(blob.obj, bytes) and blob.contiguous and blob.nbytes == len(blob.obj):
            return blob.obj
        return blob.tobytes()
    if isinstance(blob, bytearray):
        return bytes(blob)  # a copy, so later edits of the buffer cannot change decoded arrays
    raise BlobError(f"Cannot unpack an object of type {type(blob).__name__}; expected bytes")


def _decompress(data):
    header = _Reader(data)
    header.pos = len(_ZL_PREFIX)
    expected = header.size()
    try:
        inflated = zlib.decompress(header.view[header.pos :])
    except zlib.error as e:
        raise BlobError(f"Invalid blob: zlib data is corrupt: {e}") from None
    if len(inflated) != expected:
        raise BlobError(f"Blob size mismatch: expected {expected} bytes after decompression, got {len(inflated)}")
    return inflated


def is_serialized(data):
    """True when bytes start with a blob header (``mYm``, ``dj0``, or compressed ``ZL123``)."""
    return bytes(data[:6]).startswith((_MYM, _DJ0, _ZL_PREFIX))


def unpack_or_bytes(blob, squeeze=False):
    """A native blob column's value: DataJoint 0.14 serialized objects into ``longblob`` columns,
    2.x keeps raw bytes in them; a value with a blob header is unpacked, any other stays bytes."""
    if blob is None:
        return None
    data = _as_bytes(blob)
    return unpack(data, squeeze=squeeze) if is_serialized(data) else data


def unpack(blob, squeeze=False):
    """Decode a DataJoint blob; None for None or an unknown protocol, as DataJoint does.

    ``squeeze`` drops singleton dimensions and turns 0-d arrays into scalars.
    Raises BlobError when the bytes are corrupt.
    """
    if blob is None:
        return None
    data = _as_bytes(blob)
    if data.startswith(_ZL_PREFIX):
        data = _decompress(data)
    reader = _Reader(data, squeeze)
    end = data.find(b"\0")
    if end < 0 or data[: end + 1] not in (_MYM, _DJ0):
        return None
    reader.pos = end + 1
    try:
        return reader.item(n_bytes=len(data) - reader.pos)
    except RecursionError:
        raise BlobError("Invalid blob: nested too deeply") from None
