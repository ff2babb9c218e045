"""A throwaway PKI shaped like Amazon's request-signing chain, for tests and the load bench.

Amazon's certificate server (s3.amazonaws.com/echo.api/...) cannot be reached from here, and its
private key is Amazon's, so tests build their own root -> intermediate -> leaf chain, hand the root
to `SignatureVerifier(trust_roots=...)` and serve the PEM chain through `fetch=`. The certificates
follow the Web PKI profile that `cryptography`'s verifier enforces (SKI/AKI, critical basic
constraints, key usage, serverAuth EKU), as Amazon's real chain does.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNING_NAME = "echo-api.amazon.com"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


@functools.cache
def _key(label: str) -> rsa.RSAPrivateKey:
    """One RSA key per label per process: key generation dominates test time otherwise."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _ca(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    path_length: int | None,
) -> x509.Certificate:
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey

    @property
    def chain_pem(self) -> bytes:
        """What Amazon serves at the SignatureCertChainUrl: the leaf first, then intermediates."""
        return b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.leaf, self.intermediate)
        )

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def sign(self, body: bytes) -> str:
        """The Signature-256 header for `body`: base64 of RSA PKCS#1 v1.5 over SHA-256."""
        raw = self.leaf_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")


def make_pki(
    *,
    label: str = "amazon-like",
    leaf_names: tuple[str, ...] = (SIGNING_NAME,),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Pki:
    """A fresh chain. `label` picks the key set: a different label is a different, untrusted root
    even when every name matches (a forged chain). The validity window applies to the leaf."""
    root_key, inter_key, leaf_key = (_key(f"{label}/{part}") for part in ("root", "inter", "leaf"))
    root = _ca(f"{label} Root CA", root_key, None, root_key, path_length=None)
    inter = _ca(f"{label} Intermediate CA", inter_key, root, root_key, path_length=0)
    now = _now()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(leaf_names[0] if leaf_names else "no-name"))
        .issuer_name(inter.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in leaf_names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()),
            critical=False,
        )
        .sign(inter_key, hashes.SHA256())
    )
    return Pki(root=root, intermediate=inter, leaf=leaf, leaf_key=leaf_key)
