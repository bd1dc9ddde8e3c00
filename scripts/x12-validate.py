#!/usr/bin/env python3
"""Validate X12 files with pyx12, independently of medledger's own code.

Usage: scripts/x12-validate.py [--errata-as-base] [--quiet] FILE...

For every file one JSON object is printed on its own line:

    {"file": "...", "ok": true, "versions": ["005010X222A1"], "errors": []}

Each error names where pyx12 found it (interchange / group / transaction /
segment, the segment id, its line and element position when known) and
pyx12's error code and text. The exit status is 0 when every file is valid,
1 when any file has errors, and 2 when pyx12 is not installed.

pyx12 4.x ships maps for the HIPAA-adopted 837 versions 005010X222A1 (837P)
and 005010X223A2 (837I) but not for the later errata (X222A2, X223A3); it
refuses those files with "Map not found". `--errata-as-base` rewrites GS08
and ST03 from the errata to the adopted version in memory before validating
(the errata change usage notes and code lists, not the loop structure), so
such files can still be checked structurally; the rewrite is reported in the
file's `notes`.

Install: python3 -m pip install pyx12==4.0.0
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys

try:
    import pyx12
    import pyx12.error_handler
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document
except ImportError:  # pragma: no cover - reported to the caller
    pyx12 = None

# Errata versions without a pyx12 map, and the adopted version whose map fits.
ERRATA_TO_BASE = {
    "005010X222A2": "005010X222A1",
    "005010X222A3": "005010X222A1",
    "005010X223A3": "005010X223A2",
}


class _Collect(logging.Handler):
    """Keeps pyx12's own ERROR log lines (a second view on what it found)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _delimiters(text: str) -> tuple[str, str] | None:
    """Element separator and segment terminator from the ISA header."""
    start = text.find("ISA")
    if start < 0 or len(text) < start + 106:
        return None
    return text[start + 3], text[start + 105]


def _rewrite_errata(text: str, notes: list[str]) -> str:
    """GS08 / ST03 errata versions replaced by the adopted ones."""
    delims = _delimiters(text)
    if delims is None:
        return text
    ele, term = delims
    out = []
    for seg in text.split(term):
        stripped = seg.lstrip("\r\n ")
        if stripped.startswith("GS" + ele) or stripped.startswith("ST" + ele):
            parts = seg.split(ele)
            index = 8 if stripped.startswith("GS") else 3
            if len(parts) > index:
                value = parts[index].strip()
                if value in ERRATA_TO_BASE:
                    parts[index] = parts[index].replace(value, ERRATA_TO_BASE[value])
                    note = f"{stripped[:2]}: {value} validated with the {ERRATA_TO_BASE[value]} map"
                    if note not in notes:
                        notes.append(note)
                    seg = ele.join(parts)
        out.append(seg)
    return term.join(out)


def _versions(text: str) -> list[str]:
    delims = _delimiters(text)
    if delims is None:
        return []
    ele, term = delims
    found: list[str] = []
    for seg in text.split(term):
        seg = seg.lstrip("\r\n ")
        if seg.startswith("GS" + ele):
            parts = seg.split(ele)
            if len(parts) > 8 and parts[8].strip() not in found:
                found.append(parts[8].strip())
    return found


def _flatten(doc: dict) -> list[dict]:
    """pyx12's nested JSON error tree as a flat list with locations."""
    errors: list[dict] = []

    def add(level: str, where: dict, err: dict, extra: dict | None = None) -> None:
        item = {"level": level, **where, "code": err.get("err_cde"), "message": err.get("err_str")}
        if err.get("err_val") not in (None, ""):
            item["value"] = err.get("err_val")
        if extra:
            item.update(extra)
        errors.append(item)

    for isa in doc.get("interchanges", []):
        where = {"interchange": isa.get("isa_trn_set_id"), "line": isa.get("cur_line")}
        for err in isa.get("errors", []):
            add("interchange", where, err)
        for gs in isa.get("groups", []):
            gwhere = {"group": gs.get("gs_control_num"), "version": gs.get("vriic"), "line": gs.get("cur_line")}
            for err in gs.get("errors", []):
                add("group", gwhere, err)
            for st in gs.get("transactions", []):
                swhere = {"group": gs.get("gs_control_num"), "transaction": st.get("trn_set_control_num")}
                for err in st.get("errors", []):
                    add("transaction", {**swhere, "line": st.get("cur_line")}, err)
                for seg in st.get("segments", []):
                    segwhere = {
                        **swhere,
                        "segment": seg.get("seg_id"),
                        "segment_name": seg.get("name"),
                        "line": seg.get("cur_line"),
                        "segment_number": seg.get("seg_count"),
                    }
                    for err in seg.get("errors", []):
                        add("segment", segwhere, err)
                    for ele in seg.get("elements", []):
                        pos = f"{seg.get('seg_id')}{int(ele.get('ele_pos') or 0):02d}"
                        if ele.get("subele_pos"):
                            pos += f"-{int(ele['subele_pos']):02d}"
                        for err in ele.get("errors", []):
                            add("element", segwhere, err, {"element": pos, "element_name": ele.get("name")})
    return errors


def validate(path: str, errata_as_base: bool) -> dict:
    result: dict = {"file": path, "ok": False, "versions": [], "errors": []}
    notes: list[str] = []
    try:
        with open(path, encoding="ascii", errors="replace", newline="") as f:
            text = f.read()
    except OSError as e:
        result["errors"].append({"level": "file", "message": f"cannot read: {e}"})
        return result
    result["versions"] = _versions(text)
    if errata_as_base:
        text = _rewrite_errata(text, notes)
    logger = logging.getLogger("pyx12")
    collect = _Collect()
    logger.addHandler(collect)
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    fd_json = io.StringIO()
    fd_999 = io.StringIO()
    try:
        param = pyx12.params.params()
        valid = pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(text), fd_997=fd_999, fd_html=None, fd_xmldoc=None, fd_json=fd_json
        )
    except pyx12.errors.EngineError as e:
        valid = False
        result["errors"].append({"level": "engine", "message": str(e)})
    except Exception as e:  # pyx12 raising on malformed input is a failure, not a crash
        valid = False
        result["errors"].append({"level": "engine", "message": f"{type(e).__name__}: {e}"})
    finally:
        logger.removeHandler(collect)
    if fd_json.getvalue():
        try:
            result["errors"].extend(_flatten(json.loads(fd_json.getvalue())))
        except ValueError:
            result["errors"].append({"level": "engine", "message": "pyx12 wrote unreadable JSON"})
    # Anything pyx12 logged as an error that the tree does not hold.
    known = [e.get("message") or "" for e in result["errors"]]
    for message in collect.messages:
        text_only = re.sub(r"^Line:\d+ \S+ - ", "", message)
        if not any(k and (text_only.startswith(k) or k.startswith(text_only)) for k in known):
            result["errors"].append({"level": "log", "message": message})
    if not valid and not result["errors"]:
        result["errors"].append({"level": "document", "message": "pyx12 reported the document invalid"})
    result["ok"] = bool(valid) and not result["errors"]
    if notes:
        result["notes"] = notes
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Validate X12 files with pyx12; one JSON line per file.")
    parser.add_argument("files", nargs="+", help="X12 files")
    parser.add_argument(
        "--errata-as-base",
        action="store_true",
        help="validate 005010X222A2/A3 and 005010X223A3 files with the adopted A1/A2 maps",
    )
    parser.add_argument("--quiet", action="store_true", help="print only files with errors")
    args = parser.parse_args(argv)
    if pyx12 is None:
        print(json.dumps({"error": "pyx12 is not installed (python3 -m pip install pyx12==4.0.0)"}))
        return 2
    failed = 0
    for path in args.files:
        result = validate(path, args.errata_as_base)
        if not result["ok"]:
            failed += 1
        if not args.quiet or not result["ok"]:
            print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
