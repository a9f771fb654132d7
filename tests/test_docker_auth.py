"""Docker reference grammar, serveraddress and X-Registry-Auth encoding."""

from __future__ import annotations

import base64
import json

import pytest

from edgehog_creds.docker_auth import (
    DOCKER_HUB_SERVER_ADDRESS,
    ImageReference,
    InvalidImageReference,
    decode_registry_auth,
    encode_registry_auth,
    parse_image_reference,
    server_address,
)

SHA = "sha256:" + "0123456789abcdef" * 4

# reference -> (registry, repository, tag, digest)
VALID = {
    "nginx": (None, "nginx", None, None),
    "nginx:1.25": (None, "nginx", "1.25", None),
    "nginx:latest": (None, "nginx", "latest", None),
    "library/nginx": (None, "library/nginx", None, None),
    "docker.io/library/nginx:latest": ("docker.io", "library/nginx", "latest", None),
    "index.docker.io/nginx": ("index.docker.io", "nginx", None, None),
    "ghcr.io/org/app:v1.2.3": ("ghcr.io", "org/app", "v1.2.3", None),
    "localhost:5000/app": ("localhost:5000", "app", None, None),
    "localhost/app": ("localhost", "app", None, None),
    "127.0.0.1:5000/edgehog/test-app:1.0": ("127.0.0.1:5000", "edgehog/test-app", "1.0", None),
    f"registry.example.com:443/a/b/c:tag@{SHA}": ("registry.example.com:443", "a/b/c", "tag", SHA),
    f"nginx@{SHA}": (None, "nginx", None, SHA),
    f"nginx:1.25@{SHA}": (None, "nginx", "1.25", SHA),
    "a__b": (None, "a__b", None, None),
    "a---b": (None, "a---b", None, None),
    "a-b_c.d": (None, "a-b_c.d", None, None),
    "my.registry/a.b_c-d": ("my.registry", "a.b_c-d", None, None),
    "org/team/app": (None, "org/team/app", None, None),
    # Uppercase in the first component makes it a host (Docker's rule) ...
    "Registry.Example.COM/app": ("Registry.Example.COM", "app", None, None),
    "MyHost/app": ("MyHost", "app", None, None),
    # ... and a host-less "localhost:5000" is Docker Hub's "localhost" with tag 5000.
    "localhost:5000": (None, "localhost", "5000", None),
    "localhost": (None, "localhost", None, None),
    "[::1]:5000/app:1": ("[::1]:5000", "app", "1", None),
    "[fe80::1]/app": ("[fe80::1]", "app", None, None),
    "host-1.example:5000/app": ("host-1.example:5000", "app", None, None),
    "x/y": (None, "x/y", None, None),
    "0": (None, "0", None, None),
    "nginx:_under": (None, "nginx", "_under", None),
    "nginx:UPPER.case-1": (None, "nginx", "UPPER.case-1", None),
    "nginx:" + "a" * 128: (None, "nginx", "a" * 128, None),
    "nginx@sha256:" + "A" * 32: (None, "nginx", None, "sha256:" + "A" * 32),
    "nginx@sha256+b64u.x:" + "f" * 32: (None, "nginx", None, "sha256+b64u.x:" + "f" * 32),
    # 255 characters once normalised to docker.io/library/<name>.
    "a" * (255 - len("docker.io/library/")): (None, "a" * 237, None, None),
    "h.io/" + "a" * 250: ("h.io", "a" * 250, None, None),
}

INVALID = [
    "",
    " ",
    "Nginx",
    "NGINX:latest",
    "library/Nginx",
    "ghcr.io/Org/app",
    "nginx:",
    ":tag",
    "-nginx",
    "nginx-",
    "_nginx",
    "nginx_",
    "nginx.",
    "a___b",
    "a..b",
    "a._b",
    "a//b",
    "/nginx",
    "nginx/",
    "a:b:c",
    "foo@sha256:abc",
    "foo@sha256:" + "g" * 64,
    "foo@sha256",
    "foo@:" + "a" * 64,
    "foo@1sha:" + "a" * 64,
    "nginx:" + "a" * 129,
    "nginx:-tag",
    "nginx:.tag",
    "nginx:ta/g",
    "ngi nx",
    "nginx ",
    " nginx",
    "nginx:1.25 ",
    "nginx\n",
    "nginx\t",
    "nginx@",
    "nginx@@" + SHA,
    "nginx" + "@" + SHA + "@" + SHA,
    "ngînx",
    "nginx:tág",
    "nginx:١",  # Arabic-Indic digit: Python's \w/\d would take it, Go's do not.
    "localhost:port/app",
    "-host.io/app",
    "host-.io/app",
    "a_b.io/app",  # "." makes it a registry, but "_" is not allowed in a host
    "host.io:/app",
    "[::1/app",
    "[]:5000/app",
    "https://ghcr.io/org/app",
    "ghcr.io/org/app:v1?x=1",
    "0123456789abcdef" * 4,  # a bare image ID
    "a" * (256 - len("docker.io/library/")),
    "h.io/" + "a" * 251,
    "org/" + "a" * (256 - len("docker.io/org/")),
]


@pytest.mark.parametrize(("reference", "expected"), VALID.items(), ids=lambda v: str(v)[:40])
def test_valid_references(reference: str, expected: tuple[str | None, ...]) -> None:
    ref = parse_image_reference(reference)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == expected
    assert ref.original == reference


@pytest.mark.parametrize("reference", INVALID, ids=lambda v: repr(v)[:40])
def test_invalid_references(reference: str) -> None:
    with pytest.raises(InvalidImageReference) as excinfo:
        parse_image_reference(reference)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert message.startswith("invalid image reference")
    assert len(message) < 400


def test_uppercase_repository_has_a_specific_message() -> None:
    with pytest.raises(InvalidImageReference, match="must be lowercase"):
        parse_image_reference("Nginx")
    with pytest.raises(InvalidImageReference, match="must be lowercase"):
        parse_image_reference("ghcr.io/Org/app:v1")


def test_empty_reference_message() -> None:
    with pytest.raises(InvalidImageReference, match="must not be empty"):
        parse_image_reference("")


def test_image_reference_is_frozen() -> None:
    ref = parse_image_reference("nginx")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert ref == ImageReference("nginx", None, "nginx", None, None)


# --- server_address ------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "nginx",
        "nginx:1.25",
        "library/nginx",
        "org/app:1",
        f"org/app@{SHA}",
        "docker.io/library/nginx:latest",
        "docker.io/org/app",
        "index.docker.io/library/nginx",
        "registry-1.docker.io/library/nginx",
        "Docker.IO/library/nginx",
        "localhost:5000",  # Docker Hub's library/localhost, tag 5000
    ],
)
def test_server_address_docker_hub(reference: str) -> None:
    assert server_address(parse_image_reference(reference)) == "https://index.docker.io/v1/"
    assert DOCKER_HUB_SERVER_ADDRESS == "https://index.docker.io/v1/"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("ghcr.io/org/app:v1.2.3", "ghcr.io"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app", "localhost:5000"),
        ("127.0.0.1:5000/edgehog/test-app:1.0", "127.0.0.1:5000"),
        (f"registry.example.com:443/a/b/c:tag@{SHA}", "registry.example.com:443"),
        ("Registry.Example.COM/app", "Registry.Example.COM"),  # as written
        ("[::1]:5000/app", "[::1]:5000"),
        # A port makes it a different endpoint than Docker Hub's.
        ("docker.io:443/library/nginx", "docker.io:443"),
        ("docker.io.evil.example/library/nginx", "docker.io.evil.example"),
    ],
)
def test_server_address_private_registry(reference: str, expected: str) -> None:
    assert server_address(parse_image_reference(reference)) == expected


# --- X-Registry-Auth --------------------------------------------------------------


def test_encode_simple_is_byte_exact() -> None:
    value = encode_registry_auth("u", "p", "s")
    raw = base64.urlsafe_b64decode(value)
    assert raw == b'{"username":"u","password":"p","serveraddress":"s"}'
    assert value == base64.urlsafe_b64encode(raw).decode("ascii")
    assert decode_registry_auth(value) == {"username": "u", "password": "p", "serveraddress": "s"}
    assert list(decode_registry_auth(value)) == ["username", "password", "serveraddress"]


TRICKY_PASSWORDS = [
    "?>",
    "??>>",
    "~",
    "~~~",
    "a?>b~c",
    "pä§§wörd?>~",
    "s3cr?>t~pä§",
    "🔑?>~",
]


def _standard_b64(username: str, password: str, serveraddress: str) -> str:
    payload = {"username": username, "password": password, "serveraddress": serveraddress}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize("password", TRICKY_PASSWORDS)
@pytest.mark.parametrize("serveraddress", ["https://index.docker.io/v1/", "ghcr.io"])
def test_encode_is_base64url_with_padding(password: str, serveraddress: str) -> None:
    value = encode_registry_auth("user", password, serveraddress)
    assert "+" not in value
    assert "/" not in value
    assert len(value) % 4 == 0
    raw = base64.urlsafe_b64decode(value)
    expected_padding = (3 - len(raw) % 3) % 3
    assert value.endswith("=" * expected_padding)
    assert not value.endswith("=" * (expected_padding + 1))
    # Non-ASCII stays UTF-8, not \u escapes.
    assert raw.decode("utf-8") == (
        '{"username":"user","password":'
        + json.dumps(password, ensure_ascii=False)
        + ',"serveraddress":'
        + json.dumps(serveraddress)
        + "}"
    )
    assert b"\\u" not in raw
    assert decode_registry_auth(value) == {
        "username": "user",
        "password": password,
        "serveraddress": serveraddress,
    }


@pytest.mark.parametrize(
    ("username", "password", "serveraddress"),
    [
        ("u", "?>", "s"),
        ("u", "~~", "s"),
        ("ab", "~", "s"),
        ("user", "pä§§wörd?>~", "https://index.docker.io/v1/"),
        ("robot$x", "s3cr?>t~pä§", "127.0.0.1:5000"),
    ],
)
def test_encode_differs_from_standard_base64(
    username: str, password: str, serveraddress: str
) -> None:
    # Whether '+' or '/' appears depends on where the character falls in a
    # 3-byte group, so these inputs are chosen to hit it (asserted below): exactly
    # the case where a standard-base64 payload breaks device pulls.
    standard = _standard_b64(username, password, serveraddress)
    assert "+" in standard or "/" in standard
    value = encode_registry_auth(username, password, serveraddress)
    assert value != standard
    assert value == standard.replace("+", "-").replace("/", "_")
    with pytest.raises(ValueError, match="standard base64"):
        decode_registry_auth(standard)


@pytest.mark.parametrize(
    ("username", "password", "serveraddress"),
    [
        ("", "", ""),
        ("u", 'quote" back\\slash', "s"),
        ("u", "tab\tnew\nline", "s"),
        ("u", " leading and trailing ", "s"),
        ("ünï", "пароль", "ＵＴＦ.example"),
        ("u", "x" * 1000, "s"),
        ("u", "\u2028\u2029", "s"),
    ],
)
def test_round_trip(username: str, password: str, serveraddress: str) -> None:
    value = encode_registry_auth(username, password, serveraddress)
    assert decode_registry_auth(value) == {
        "username": username,
        "password": password,
        "serveraddress": serveraddress,
    }
    assert "+" not in value and "/" not in value and len(value) % 4 == 0


def test_encode_rejects_lone_surrogates_without_echoing_them() -> None:
    with pytest.raises(ValueError) as excinfo:
        encode_registry_auth("u", "sec\ud800ret", "s")
    assert "sec" not in str(excinfo.value)
    assert "\\ud800" not in str(excinfo.value) and "\ud800" not in str(excinfo.value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        # unpadded
        base64.urlsafe_b64encode(b'{"a":1}').decode().rstrip("="),
        "eyJhIjoxfQ",
        # too much padding / padding in the middle
        "eyJhIjoxfQ===",
        "eyJh=IjoxfQ==",
        # standard alphabet
        "+/+/",
        # whitespace and stray characters
        " eyJhIjoxfQ==",
        "eyJhIjoxfQ==\n",
        "eyJh IjoxfQ==",
        "eyJhIjoxfQ==.",
        # non-canonical trailing bits ("e30=" is "{}"; "e31=" decodes the same)
        "e31=",
        # valid base64url but not a JSON object / not JSON / not UTF-8
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'"str"').decode(),
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"password":"\xff"}').decode(),
        base64.urlsafe_b64encode(b'{"password":"a","password":"b"}').decode(),
    ],
)
def test_decode_is_strict(value: str) -> None:
    with pytest.raises(ValueError):
        decode_registry_auth(value)


def test_decode_errors_never_echo_the_secret() -> None:
    secret = "hunter2-?>~"
    bad = [
        base64.urlsafe_b64encode(f'{{"password":"{secret}"'.encode()).decode(),  # truncated JSON
        _standard_b64("u", secret, "s"),
        encode_registry_auth("u", secret, "s").rstrip("="),
    ]
    for value in bad:
        with pytest.raises(ValueError) as excinfo:
            decode_registry_auth(value)
        message = str(excinfo.value)
        assert secret not in message
        assert value not in message
        assert "hunter2" not in message


def test_decode_accepts_empty_object() -> None:
    assert decode_registry_auth("e30=") == {}


@pytest.mark.parametrize(
    "password",
    ['"quoted"', "back\\slash", "tab\tnew\nline\r", "\x00\x01\x1f\x7f", "\u2028\u2029", "é🔑"],
)
def test_encode_writes_the_same_bytes_as_the_json_module(password: str) -> None:
    value = encode_registry_auth("user", password, "ghcr.io")
    payload = {"username": "user", "password": password, "serveraddress": "ghcr.io"}
    expected = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert base64.urlsafe_b64decode(value) == expected
