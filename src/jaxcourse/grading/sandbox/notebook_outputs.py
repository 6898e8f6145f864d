"""A kernel's outputs as valid notebook outputs, whatever student code sent: what a feedback page
can show without running anything in the reader's browser."""

from __future__ import annotations

import json

# What a feedback page may show as it is; any other representation becomes text (`plain_output`).
SAFE_MIME = ("text/plain", "image/png", "image/jpeg")


def as_text(value, limit: int = 5000) -> str:
    """Any JSON a kernel sent, as text: a string as it is, a list of strings joined, else JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    try:
        return json.dumps(value, default=repr)[:limit]
    except (TypeError, ValueError, RecursionError):
        return repr(type(value))


def plain_output(message: dict) -> dict:
    """One iopub message as a valid notebook output whatever its content (student code can send
    any JSON): text fields are strings, rich representations that could carry markup or script
    (HTML, JavaScript, SVG, JSON, LaTeX) are shown as text, metadata is dropped."""
    kind = message.get("msg_type")
    content = message.get("content")
    content = content if isinstance(content, dict) else {}
    if kind == "stream":
        name = content.get("name") if content.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": as_text(content.get("text", ""))}
    if kind == "error":
        trace = content.get("traceback")
        trace = [as_text(line) for line in trace[:200]] if isinstance(trace, list) else []
        return {"output_type": "error", "ename": as_text(content.get("ename", "Error"))[:200],
                "evalue": as_text(content.get("evalue", ""))[:5000], "traceback": trace}
    data = content.get("data")
    data = data if isinstance(data, dict) else {}
    kept = {mime: value for mime, value in data.items() if mime in SAFE_MIME and isinstance(value, str)}
    active = [mime for mime in data if mime not in kept]
    if active:
        kept["text/plain"] = f"[{as_text(active[0])[:100]} output, shown as text]\n{as_text(data[active[0]])[:5000]}"
    output = {"output_type": kind if kind in ("display_data", "execute_result") else "display_data",
              "data": kept, "metadata": {}}
    if output["output_type"] == "execute_result":
        count = content.get("execution_count")
        output["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return output
