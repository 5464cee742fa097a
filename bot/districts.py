"""The list of districts a person may pick during onboarding, read from DISTRICTS_FILE."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class District:
    """One district: a stable code and its names."""

    code: str
    th: str
    en: str

    def name(self, language: str) -> str:
        """The district's name in `language` (th or en)."""
        return self.th if language == "th" else self.en


class DistrictsFileError(ValueError):
    """DISTRICTS_FILE cannot be read or has the wrong shape."""


def load_districts(path: Path) -> tuple[District, ...]:
    """Read and check the districts YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DistrictsFileError(f"cannot read {path}: {exc}") from None
    entries = data.get("districts") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DistrictsFileError(f"{path}: expected a non-empty 'districts:' list")
    districts: list[District] = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k].strip() for k in ("code", "th", "en")
        ):
            raise DistrictsFileError(f"{path}: entry {i} needs code, th and en")
        districts.append(District(entry["code"].strip(), entry["th"].strip(), entry["en"].strip()))
    codes = [d.code for d in districts]
    if len(set(codes)) != len(codes):
        raise DistrictsFileError(f"{path}: district codes must be unique")
    return tuple(districts)
