"""Vendor GraphiQL's browser files into edgehog_creds/http/graphiql_assets/.

GraphiQL's page (Strawberry's) names its scripts and styles on unpkg.com, which
offline and on most production networks never answers, so the page would show
"Loading..." forever. We serve the same files ourselves. This script downloads
the pinned npm packages from registry.npmjs.org, checks each tarball against
the registry's `dist.integrity` (sha512), and writes the files the page needs,
each package's license text, and manifest.json (versions, sha256, the sha384
SRI the page checks, the CDN URL each file stands in for).

    python tools/vendor_graphiql.py          # re-vendor (after changing PINS)
    python tools/vendor_graphiql.py --check  # the committed files are the pinned ones

Standard library only: it runs without the project's virtualenv.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
CDN = "https://unpkg.com"
OUT = Path(__file__).resolve().parent.parent / "edgehog_creds" / "http" / "graphiql_assets"

# The versions Strawberry's GraphiQL page names (strawberry/static/graphiql.html);
# edgehog_creds/http/graphiql.py refuses a page naming any other file.
# package -> (version, {file in the package: name we serve it under}). The
# served names carry the version, so a re-vendored file gets a new URL and the
# year-long browser cache never serves an old one.
PINS: dict[str, tuple[str, dict[str, str]]] = {
    "react": ("18.2.0", {"umd/react.production.min.js": "react-18.2.0.min.js"}),
    "react-dom": ("18.2.0", {"umd/react-dom.production.min.js": "react-dom-18.2.0.min.js"}),
    "js-cookie": ("3.0.5", {"dist/js.cookie.min.js": "js-cookie-3.0.5.min.js"}),
    "graphiql": (
        "3.8.3",
        {"graphiql.min.js": "graphiql-3.8.3.min.js", "graphiql.min.css": "graphiql-3.8.3.min.css"},
    ),
    "@graphiql/plugin-explorer": (
        "1.0.2",
        {
            "dist/index.umd.js": "plugin-explorer-1.0.2.umd.js",
            "dist/style.css": "plugin-explorer-1.0.2.css",
        },
    ),
}

# Packages whose code is bundled into a vendored file, for their license only:
# the explorer plugin's UMD file is mostly graphiql-explorer.
BUNDLED = {"graphiql-explorer": "0.9.0"}
# @graphiql/plugin-explorer's tarball carries no license file; it is MIT like the
# rest of the graphql/graphiql monorepo, whose license graphiql's tarball carries.
LICENSE_FROM = {"@graphiql/plugin-explorer": "graphiql"}
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license")


def fetch(url: str) -> bytes:
    if not url.startswith("https://"):
        raise SystemExit(f"refusing a non-https URL: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https only, above)
        return bytes(response.read())


def sri(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def package_files(package: str, version: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """The files of `package`@`version`'s tarball (paths without `package/`), and its dist."""
    meta = json.loads(fetch(f"{REGISTRY}/{urllib.parse.quote(package, safe='@')}/{version}"))
    dist = meta["dist"]
    tarball = fetch(dist["tarball"])
    algorithm = dist["integrity"].split("-", 1)[0]
    if algorithm != "sha512" or sri("sha512", tarball) != dist["integrity"]:
        raise SystemExit(f"{package}@{version}: the tarball does not match {dist['integrity']}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                # npm tarballs put everything under one top folder, usually `package/`.
                _, _, path = member.name.partition("/")
                extracted = tar.extractfile(member)
                assert extracted is not None
                files[path] = extracted.read()
    return files, {
        "tarball": dist["tarball"],
        "integrity": dist["integrity"],
        "license": meta.get("license", ""),
    }


def vendored() -> dict[str, bytes]:
    """Every file to write, by its path under OUT, manifest.json included."""
    out: dict[str, bytes] = {}
    packages: dict[str, dict[str, str]] = {}
    served: dict[str, dict[str, str | int]] = {}
    licenses: dict[str, bytes] = {}
    pins = {**PINS, **{name: (version, {}) for name, version in BUNDLED.items()}}
    for package, (version, wanted) in pins.items():
        files, dist = package_files(package, version)
        if dist["license"] != "MIT":
            raise SystemExit(f"{package}@{version} is {dist['license']!r}, not MIT: check it first")
        license_path = next((n for n in LICENSE_NAMES if n in files), None)
        if license_path is not None:
            licenses[package] = files[license_path]
        elif package not in LICENSE_FROM:
            raise SystemExit(f"{package}@{version} has no license file")
        license_name = f"licenses/{package.lstrip('@').replace('/', '-')}-{version}.LICENSE"
        packages[package] = {"version": version, **dist, "license_file": license_name}
        for path, name in wanted.items():
            data = files[path]
            out[name] = data
            served[name] = {
                "package": package,
                "version": version,
                "path": path,
                "cdn_url": f"{CDN}/{package}@{version}/{path}",
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "integrity": sri("sha384", data),
            }
    # Once every package's own license is known: some take another's.
    for package, entry in packages.items():
        out[entry["license_file"]] = licenses[LICENSE_FROM.get(package, package)]
    manifest = {"packages": packages, "files": served}
    out["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    files = vendored()
    if args.check:
        differ = sorted(
            n for n, d in files.items() if not (OUT / n).is_file() or (OUT / n).read_bytes() != d
        )
        extra = sorted(
            str(p.relative_to(OUT))
            for p in OUT.rglob("*")
            if p.is_file() and str(p.relative_to(OUT)) not in files
        )
        for name in differ:
            print(f"differs from the pinned package: {name}")
        for name in extra:
            print(f"not vendored by this script: {name}")
        return 1 if differ or extra else 0
    # Files from an earlier pin would linger (and be shipped): start afresh.
    for old in OUT.rglob("*"):
        if old.is_file():
            old.unlink()
    for name, data in files.items():
        (OUT / name).parent.mkdir(parents=True, exist_ok=True)
        (OUT / name).write_bytes(data)
        print(f"wrote {OUT.relative_to(OUT.parent.parent.parent) / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
