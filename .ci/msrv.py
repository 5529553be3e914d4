#!/usr/bin/env python3
"""Checks that the workspace's `rust-version` is true for the committed Cargo.lock:
it must equal the highest `rust-version` among the locked packages that a build
(not the tests) of the default members compiles.

Usage: python3 .ci/msrv.py   (from the workspace root; exit 1 with the culprit)
"""
import json
import subprocess
import sys


def version_key(v):
    return tuple(int(p) for p in v.split("."))


def main():
    host = next(line.split()[1] for line in subprocess.check_output(
        ["rustc", "-vV"], text=True).splitlines() if line.startswith("host:"))
    # Only what this platform compiles (no Windows crates, no cfg(loom) ones).
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--filter-platform", host]))
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    # Walk normal and build edges from the default members; dev edges are tests'.
    todo = list(meta["workspace_default_members"])
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    members = set(meta["workspace_members"])
    ours = {packages[m].get("rust_version") for m in meta["workspace_default_members"]}
    if len(ours) != 1 or None in ours:
        print(f"msrv: the default members disagree on rust-version: {ours}")
        return 1
    ours = ours.pop()
    deps = [(packages[p].get("rust_version") or "0", packages[p]["name"],
             packages[p]["version"]) for p in seen if p not in members]
    need, name, version = max(deps, key=lambda d: version_key(d[0]))
    if version_key(ours) != version_key(need):
        print(f"msrv: rust-version is {ours}, but the locked {name} {version} "
              f"needs {need}: set rust-version = \"{need}\" in Cargo.toml")
        return 1
    print(f"msrv: rust-version {ours} (the highest locked: {name} {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
