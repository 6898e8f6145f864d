"""Gradescope's "Export Submissions" zip: `assignment_<id>_export/submission_metadata.yml` and a
folder per submission (`submission_<id>/`). The metadata names each folder's submitters (Ruby
symbols as keys: `:submitters:` with `:name:`, `:sid:` and `:email:`, `:created_at:`); a group's
submission is graded once for each of its members, under their own id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import yaml

METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 20 * 2**20


@dataclass(frozen=True)
class Submitter:
    student: str  # the roster's student id (`:sid:`), else the e-mail, else the submission's folder
    name: str
    email: str
    submitted_at: datetime | None


class _Loader(yaml.SafeLoader):
    """Safe YAML that reads Ruby's tagged objects (`!ruby/object:...`) as plain data."""


def _untagged(loader, _suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!", _untagged)


def _field(record: dict, name: str):
    return record.get(f":{name}", record.get(name))


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    try:
        return datetime.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def submitters(data: bytes) -> dict[str, list[Submitter]]:
    """{submission folder: its submitters} from the metadata's bytes; ValueError when it cannot be read."""
    try:
        metadata = yaml.load(data.decode("utf-8", errors="replace"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise ValueError(f"{METADATA}: not readable YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{METADATA}: expected one entry per submission folder")
    found = {}
    for folder, record in metadata.items():
        if not isinstance(record, dict):
            continue
        people = _field(record, "submitters") or []
        when = _when(_field(record, "created_at"))
        found[str(folder)] = [
            Submitter(str(_field(p, "sid") or _field(p, "email") or folder).strip(), str(_field(p, "name") or ""),
                      str(_field(p, "email") or ""), when)
            for p in people if isinstance(p, dict)] or [Submitter(str(folder), "", "", when)]
    return found
