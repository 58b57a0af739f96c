#!/usr/bin/env python3
"""Write a ROM's symbols file (<rom>.symbols.json) from the linker map.

Addresses come from the sdldgb map; sizes from the `.ds` reservations in the
assembler sources (SDCC's generated .asm and the runtime's .s) and are checked
against the gaps between consecutive symbols in the map; kind, C type and
description come from the annotation comment on each global's definition:

    C:    uint8_t paddle_x;   /* state: left edge of the paddle */
    asm:  _shadow_oam::       ; screen uint8_t[160]: sprite attributes

An array of structs (`struct shot shots[3];`) takes its element size from the
struct's definition in the sources (members of the types below, no padding on
sm83) and lists the members with their offsets under "fields".

Every global the map places in RAM must be annotated, so the file cannot
silently miss a variable. A variable in a linker area named _WRAM_BANK<n> lives
in CGB WRAM bank n at 0xD000-0xDFFF (selected through SVBK, 0xFF70; on DMG,
which has no SVBK, the same addresses are its one bank 1): its entry adds
"cgb_wram_bank": n, and it may share addresses with bank-1 variables. Standard library only: runs wherever the ROMs build.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import operator
import os
import re
import sys
import tempfile
from pathlib import Path

KINDS = ("state", "screen", "runtime", "scratch")
ELEMENT_SIZES = {"uint8_t": 1, "int8_t": 1, "char": 1, "uint16_t": 2, "int16_t": 2, "uint32_t": 4, "int32_t": 4}
# Work RAM and high RAM: where variables live (Pan Docs, "Memory Map")
RAM_RANGES = ((0xC000, 0xE000), (0xFF80, 0xFFFF))

AREA_RE = re.compile(r"^(\S+)\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})\s+=\s+\d+\. bytes", re.M)
MAP_SYMBOL_RE = re.compile(r"^\s+([0-9A-Fa-f]{8})\s+(_\w+)\s*(\w*)\s*$")
DS_LABEL_RE = re.compile(r"^(_\w+)::?")
DS_RE = re.compile(r"^\s*\.ds\s+(\d+)")
C_ANNOTATION_RE = re.compile(
    r"^\s*(?P<type>(?:(?:unsigned|signed|volatile|const|struct)\s+)*\w+)\s+"
    r"(?P<name>\w+)\s*(?P<array>\[[^\]]*\])?\s*(?:=[^;]*)?;\s*"
    r"/\*\s*(?P<kind>\w+):\s*(?P<description>.*?)\s*\*/\s*$"
)
ASM_ANNOTATION_RE = re.compile(
    r"^_(?P<name>\w+)::?\s*;\s*(?P<kind>\w+)\s+(?P<type>[\w\[\]]+):\s*(?P<description>.*?)\s*$"
)
WRAM_BANK_AREA_RE = re.compile(r"^_WRAM_BANK([1-7])$")
STRUCT_RE = re.compile(r"^\s*struct\s+(?P<name>\w+)\s*\{(?P<body>[^}]*)\}\s*;", re.M)
STRUCT_MEMBER_RE = re.compile(r"^\s*(?P<type>\w+)\s+(?P<name>\w+)\s*(?:\[\s*(?P<count>\d+)\s*\])?\s*;")
DEFINE_RE = re.compile(r"^\s*#define\s+([A-Z][A-Z0-9_]*)\s+(.+?)\s*(?:/\*.*)?$")


def in_ram(address: int) -> bool:
    return any(low <= address < high for low, high in RAM_RANGES)


def parse_map(text: str) -> dict[str, dict]:
    """Map symbols in RAM areas: name -> {address, module, area, next}, where
    `next` is the address of the following symbol or the end of the area."""
    symbols: dict[str, dict] = {}
    sections = AREA_RE.split(text)
    # split() yields [preamble, area, addr, size, body, area, addr, size, body, ...]
    for i in range(1, len(sections), 4):
        area, base, size, body = sections[i], int(sections[i + 1], 16), int(sections[i + 2], 16), sections[i + 3]
        if size == 0 or not in_ram(base):
            continue
        entries = []
        for line in body.splitlines():
            match = MAP_SYMBOL_RE.match(line)
            if match:
                entries.append((int(match.group(1), 16), match.group(2)[1:], match.group(3)))
        entries.sort()
        for j, (address, name, module) in enumerate(entries):
            following = entries[j + 1][0] if j + 1 < len(entries) else base + size
            symbols[name] = {"address": address, "module": module, "area": area, "next": following}
    if not symbols:
        raise ValueError("no RAM symbols found in the map: is it an sdldgb map made with -m?")
    return symbols


def parse_sizes(paths: list[Path]) -> dict[str, int]:
    """Bytes reserved by `.ds` right after each label."""
    sizes: dict[str, int] = {}
    for path in paths:
        label = None
        for line in path.read_text().splitlines():
            code = line.split(";", 1)[0]
            match = DS_LABEL_RE.match(code)
            if match:
                label = match.group(1)[1:]
                continue
            ds = DS_RE.match(code)
            if ds and label is not None:
                sizes[label] = int(ds.group(1))
            if code.strip():
                label = None
    return sizes


def parse_annotations(paths: list[Path]) -> dict[str, dict]:
    annotations: dict[str, dict] = {}
    for path in paths:
        pattern = ASM_ANNOTATION_RE if path.suffix == ".s" else C_ANNOTATION_RE
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = pattern.match(line)
            if not match:
                continue
            kind = match.group("kind")
            if kind not in KINDS:
                raise ValueError(f"{path}:{number}: kind {kind!r} is not one of {KINDS}")
            c_type = match.group("type")
            if pattern is C_ANNOTATION_RE and match.group("array"):
                c_type += "[]"  # the length comes from the .ds size
            annotations[match.group("name")] = {
                "kind": kind,
                "type": c_type,
                "description": match.group("description"),
            }
    return annotations


def parse_structs(paths: list[Path]) -> dict[str, list[dict]]:
    """Struct definitions of the C sources: "struct name" -> members [{name, offset, type}] in order."""
    structs: dict[str, list[dict]] = {}
    for path in paths:
        if path.suffix != ".c":
            continue
        for match in STRUCT_RE.finditer(path.read_text()):
            fields, offset = [], 0
            for line in match.group("body").split(";"):
                member = STRUCT_MEMBER_RE.match(line + ";")
                if not member:
                    continue
                if member.group("type") not in ELEMENT_SIZES:
                    raise ValueError(f"{path}: struct {match.group('name')} member {member.group('name')} has type "
                                     f"{member.group('type')!r}, not one of {sorted(ELEMENT_SIZES)}")
                count = member.group("count")
                c_type = member.group("type") + (f"[{count}]" if count else "")
                fields.append({"name": member.group("name"), "offset": offset, "type": c_type})
                offset += ELEMENT_SIZES[member.group("type")] * int(count or 1)
            structs["struct " + match.group("name")] = fields
    return structs


def struct_size(fields: list[dict]) -> int:
    last = fields[-1]
    element, _, count = last["type"].partition("[")
    return last["offset"] + ELEMENT_SIZES[element] * int(count.rstrip("]") or 1)


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def _evaluate(node: ast.AST, known: dict[str, int]) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left, known), _evaluate(node.right, known))
    raise ValueError("not an integer constant expression")


def parse_constants(paths: list[Path]) -> dict[str, int]:
    """Integer #defines (literals or arithmetic on earlier ones) of the game's header."""
    constants: dict[str, int] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            match = DEFINE_RE.match(line)
            if not match:
                continue
            expression = match.group(2).replace("/", "//")
            try:
                constants[match.group(1)] = _evaluate(ast.parse(expression, mode="eval").body, constants)
            except (SyntaxError, ValueError):
                continue  # not an integer constant (include guard, macro with arguments)
    return constants


def build(rom: Path, map_path: Path, asm: list[Path], sources: list[Path], headers: list[Path]) -> dict:
    symbols = parse_map(map_path.read_text())
    sizes = parse_sizes(asm)
    annotations = parse_annotations(sources)
    structs = parse_structs(sources)

    problems = []
    missing = sorted(set(symbols) - set(annotations))
    if missing:
        problems.append(f"RAM globals without a 'kind: description' comment: {', '.join(missing)}")
    unknown = sorted(set(annotations) - set(symbols))
    if unknown:
        problems.append(f"annotated globals the map does not place in RAM: {', '.join(unknown)}")
    variables = []
    for name, symbol in sorted(symbols.items(), key=lambda item: item[1]["address"]):
        if name not in annotations:
            continue
        if name not in sizes:
            problems.append(f"{name}: no .ds reservation found in {', '.join(map(str, asm))}")
            continue
        gap = symbol["next"] - symbol["address"]
        if sizes[name] != gap:
            problems.append(f"{name}: .ds reserves {sizes[name]} bytes but the map leaves {gap} before the next symbol")
        c_type = annotations[name]["type"]
        fields = None
        if c_type.endswith("[]"):
            element = c_type[:-2]
            if element in structs:
                fields = structs[element]
                element_size = struct_size(fields)
            elif element in ELEMENT_SIZES:
                element_size = ELEMENT_SIZES[element]
            else:
                problems.append(f"{name}: element type {element!r} is not one of {sorted(ELEMENT_SIZES)} "
                                "nor a struct defined in the sources")
                continue
            c_type = f"{element}[{sizes[name] // element_size}]"
        variable = {
            "name": name,
            "address": symbol["address"],
            "address_hex": f"0x{symbol['address']:04X}",
            "size": sizes[name],
            "type": c_type,
            "kind": annotations[name]["kind"],
            "module": symbol["module"],
            "description": annotations[name]["description"],
        }
        bank = WRAM_BANK_AREA_RE.match(symbol["area"])
        if bank:
            variable["cgb_wram_bank"] = int(bank.group(1))
        if fields is not None:
            variable["fields"] = fields
        variables.append(variable)
    if problems:
        raise ValueError("symbols file not written:\n  " + "\n  ".join(problems))

    return {
        "rom": rom.name,
        "sha1": hashlib.sha1(rom.read_bytes()).hexdigest(),
        "source": map_path.name,
        "constants": parse_constants(headers),
        "variables": variables,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rom", type=Path, required=True, help="the built .gb")
    parser.add_argument("--map", type=Path, required=True, help="sdldgb map (-m)")
    parser.add_argument("--asm", type=Path, nargs="+", required=True, help=".asm/.s files with the .ds reservations")
    parser.add_argument("--sources", type=Path, nargs="+", required=True, help="annotated .c/.s sources")
    parser.add_argument("--constants", type=Path, nargs="*", default=[], help="headers whose integer #defines to copy")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in [args.rom, args.map, *args.asm, *args.sources, *args.constants]:
        if not path.is_file():
            parser.error(f"{path} does not exist: build the ROM first (make -C roms)")
    try:
        table = build(args.rom, args.map, args.asm, args.sources, args.constants)
    except ValueError as error:
        print(f"make_symbols.py: {error}", file=sys.stderr)
        return 1
    handle, temporary = tempfile.mkstemp(dir=args.out.parent, prefix=args.out.name, suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump(table, out, indent=2)
        out.write("\n")
    os.chmod(temporary, 0o644)  # mkstemp creates the file private
    os.replace(temporary, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
