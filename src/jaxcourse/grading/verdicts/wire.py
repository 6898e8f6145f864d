"""Plain data between the student's kernel and the trusted test kernel, as JSON text.

What crosses: None, bools, ints, floats, strings, bytes, arrays (dtype, shape and bytes; JAX
arrays come back as JAX arrays, PRNG keys as keys), and tuples, lists and dicts of these. Never a
pickled object, never anything with behaviour: an object that is none of these stays in the
student's kernel and crosses as a reference (a number) the trusted side can only send back.

`decode` trusts nothing: every tag is checked, every array's byte count must match its shape.
"""

from __future__ import annotations

import base64
import json

import numpy as np

DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "bfloat16", "complex64", "complex128",
})
MAX_DEPTH = 64
MAX_DIMS = 32


class WireError(ValueError):
    """Text that is not plain data as this module writes it."""


def _is_key(value) -> bool:
    import jax

    return isinstance(value, jax.Array) and jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key)


def _array(array: np.ndarray, kind: str) -> dict:
    array = np.asarray(array, order="C")
    if array.dtype.name not in DTYPES:
        raise TypeError(f"arrays of dtype {array.dtype} do not cross")
    return {"$a": [array.dtype.name, list(array.shape), base64.b64encode(array.tobytes()).decode(), kind]}


def encode_value(value, refer=None, depth: int = 0):
    """`value` as JSON-ready data. Objects that are not plain data become `refer(obj)` (a
    reference the caller keeps), or raise TypeError without `refer`."""
    if depth > MAX_DEPTH:
        raise TypeError("data nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (bytes, bytearray):
        return {"$b": base64.b64encode(value).decode()}
    if kind in (tuple, list):
        items = [encode_value(v, refer, depth + 1) for v in value]
        return items if kind is list else {"$t": items}
    if kind is dict:
        try:
            keys = [encode_value(k, None, depth + 1) for k in value]
        except TypeError:
            if refer is None:
                raise
            return {"$r": [refer(value), "dict"]}  # keys that are not plain data: the dict stays
        return {"$d": [[k, encode_value(v, refer, depth + 1)] for k, v in zip(keys, value.values())]}
    if kind is np.ndarray:
        return _array(value, "numpy")
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        return _array(np.asarray(value), "scalar")
    if "jax" in kind.__module__:
        import jax

        if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
            if _is_key(value):
                data = jax.random.key_data(value)
                return {"$k": [str(jax.random.key_impl(value)), _array(np.asarray(data), "numpy")]}
            return _array(np.asarray(value), "jax")
    if refer is None:
        raise TypeError(f"a {kind.__name__} is not plain data (numbers, strings, arrays, tuples, lists, dicts)")
    return {"$r": [refer(value), kind.__name__]}


def encode(value, refer=None) -> str:
    return json.dumps(encode_value(value, refer))


def _dtype(name) -> np.dtype:
    if name not in DTYPES:
        raise WireError(f"dtype {name!r} is not accepted")
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _decode_array(fields, as_jax: bool):
    if not (isinstance(fields, list) and len(fields) == 4):
        raise WireError("malformed array")
    name, shape, data, kind = fields
    dtype = _dtype(name)
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape) or not isinstance(data, str)):
        raise WireError("malformed array")
    raw = base64.b64decode(data, validate=True)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count * dtype.itemsize != len(raw):
        raise WireError("an array's bytes do not match its shape")
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if kind == "scalar" and not shape:
        return array[()]
    if kind == "jax" and as_jax:
        import jax.numpy as jnp

        return jnp.asarray(array)
    if kind not in ("numpy", "jax", "scalar"):
        raise WireError("malformed array")
    return array


def decode_value(data, resolve=None, depth: int = 0, as_jax: bool = True):
    """The value `encode_value` wrote; references go through `resolve(number, type_name)`."""
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode_value(v, resolve, depth + 1, as_jax) for v in data]
    if type(data) is not dict or len(data) != 1:
        raise WireError("malformed data")
    (tag, body), = data.items()
    if tag == "$t" and type(body) is list:
        return tuple(decode_value(v, resolve, depth + 1, as_jax) for v in body)
    if tag == "$d" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("malformed dict")
            key = decode_value(pair[0], None, depth + 1, as_jax=False)
            if isinstance(key, (list, dict, np.ndarray)):
                raise WireError("a dict key must be hashable")
            out[key] = decode_value(pair[1], resolve, depth + 1, as_jax)
        return out
    if tag == "$b" and type(body) is str:
        return base64.b64decode(body, validate=True)
    if tag == "$a":
        return _decode_array(body, as_jax)
    if tag == "$k" and type(body) is list and len(body) == 2 and type(body[0]) is str:
        import jax

        data = _decode_array(body[1]["$a"] if type(body[1]) is dict and "$a" in body[1] else None, False)
        if data.dtype != np.uint32:
            raise WireError("PRNG key data must be uint32")
        try:
            return jax.random.wrap_key_data(data, impl=body[0])
        except Exception as err:
            raise WireError(f"not a PRNG key: {err}") from None
    if tag == "$r" and resolve is not None and type(body) is list and len(body) == 2:
        number, name = body
        if type(number) is not int or type(name) is not str:
            raise WireError("malformed reference")
        return resolve(number, name[:100])
    raise WireError(f"unknown tag {tag!r}")


def decode(text: str, resolve=None):
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise WireError(f"not JSON: {err}") from None
    return decode_value(data, resolve)
