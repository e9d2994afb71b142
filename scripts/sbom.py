#!/usr/bin/env python3
"""A CycloneDX 1.5 SBOM (JSON) of the `coffer` operator, from Cargo.lock.

Usage: scripts/sbom.py VERSION IMAGE_REF > coffer-VERSION.cdx.json

The components are the crates Cargo.lock pins that the operator links: the
normal (not dev, not build) dependencies of the `coffer` package for the
image's target, as `cargo metadata --locked` resolves them, each with its
version, licence, purl and Cargo.lock's SHA-256 checksum. Offline and
deterministic: the same Cargo.lock and commit give the same file.
"""

import hashlib
import json
import os
import subprocess
import sys
import tomllib
import uuid
from datetime import datetime, timezone

TARGET = "x86_64-unknown-linux-musl"


def purl(name, version):
    return f"pkg:cargo/{name}@{version}"


def main():
    version, image = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lock_path = os.path.join(root, "Cargo.lock")
    with open(lock_path, "rb") as f:
        lock_bytes = f.read()
    lock = tomllib.loads(lock_bytes.decode())
    checksums = {(p["name"], p["version"]): p.get("checksum") for p in lock["package"]}

    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline",
         "--filter-platform", TARGET],
        cwd=root))
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    coffer = next(p["id"] for p in meta["packages"] if p["name"] == "coffer" and p["source"] is None)

    # The operator's normal dependencies, transitively.
    def normal_deps(node_id):
        for dep in nodes[node_id]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                yield dep["pkg"]

    linked, todo = set(), [coffer]
    while todo:
        for dep in normal_deps(todo.pop()):
            if dep not in linked:
                linked.add(dep)
                todo.append(dep)

    def component(pkg_id):
        p = packages[pkg_id]
        c = {
            "type": "library",
            "bom-ref": purl(p["name"], p["version"]),
            "name": p["name"],
            "version": p["version"],
            "purl": purl(p["name"], p["version"]),
        }
        if p.get("license"):
            c["licenses"] = [{"expression": p["license"]}]
        checksum = checksums.get((p["name"], p["version"]))
        if checksum:
            c["hashes"] = [{"alg": "SHA-256", "content": checksum}]
            c["externalReferences"] = [{
                "type": "distribution",
                "url": f"https://crates.io/api/v1/crates/{p['name']}/{p['version']}/download",
            }]
        return c

    components = sorted((component(i) for i in linked), key=lambda c: c["bom-ref"])
    dependencies = []
    for node_id in sorted([coffer, *linked], key=lambda i: purl(packages[i]["name"], packages[i]["version"])):
        p = packages[node_id]
        depends = sorted({purl(packages[d]["name"], packages[d]["version"]) for d in normal_deps(node_id)})
        dependencies.append({"ref": purl(p["name"], p["version"]), "dependsOn": depends})

    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    seed = hashlib.sha256(lock_bytes + version.encode() + image.encode()).hexdigest()
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "coffer scripts/sbom.py"}]},
            "component": {
                "type": "container",
                "bom-ref": purl("coffer", version),
                "name": "coffer",
                "version": version,
                "purl": purl("coffer", version),
                "licenses": [{"expression": packages[coffer].get("license") or "NOASSERTION"}],
                "properties": [{"name": "oci:image", "value": image}],
            },
        },
        "components": components,
        "dependencies": dependencies,
    }
    json.dump(bom, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
