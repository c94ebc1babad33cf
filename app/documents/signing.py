"""PAdES signatures on issued PDFs (pyHanko) with the organisation's key and certificate, and their validation.

The embedded default generates a self-signed certificate on first use (DOCUMENT_SIGNING_KEY_FILE, created 0600,
and DOCUMENT_SIGNING_CERT_FILE); production configures its own pair. Validation uses pyHanko's own validator with
that certificate as the only trust root, and says whether the signature covers the whole file (the signed
original, nothing appended)."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app

from app.i18n import HK

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_signers: dict[tuple[str, str], object] = {}
ORGANISATION = "Tenderbox PPP Procurement Office"


def _outside_event_loop(fn):
    """Run fn() here, or in a worker thread when this thread runs an asyncio loop: pyHanko's synchronous API calls
    asyncio.run(), which refuses to nest (a caller inside an async framework, or a Playwright test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(copy_context().run, fn).result()


def _paths() -> tuple[Path, Path]:
    return Path(current_app.config["DOCUMENT_SIGNING_KEY_FILE"]), Path(current_app.config["DOCUMENT_SIGNING_CERT_FILE"])


def ensure_certificate(key_path: Path, cert_path: Path) -> None:
    """Create a self-signed ECDSA P-256 key and certificate when neither exists (the embedded default)."""
    if key_path.exists() and cert_path.exists():
        return
    if key_path.exists() != cert_path.exists():
        raise RuntimeError(f"document signing: {key_path} and {cert_path} must both exist or both be absent")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "HK"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{ORGANISATION} document signing")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    logger.warning("document signing: generated a self-signed certificate at %s (configure your own in production)",
                   cert_path)


def _pades_signed_attributes(signing_cert):
    """The signed attributes PAdES baseline B adds to content type and message digest: signing-certificate-v2 only
    (what pyHanko's own CAdES/PAdES spec yields without CAdES metadata or a timestamper). Built once per signer and
    held as parsed DER: an asn1crypto value built field by field re-encodes the certificate's issuer on every dump,
    which was two thirds of the cost of a signature (about 10 of 15 ms)."""
    from asn1crypto import tsp
    from pyhanko.sign.attributes import CMSAttributeProvider
    from pyhanko.sign.general import as_signing_certificate_v2
    from pyhanko.sign.signers.pdf_cms import SignedAttributeProviderSpec

    value = tsp.SigningCertificateV2.load(as_signing_certificate_v2(signing_cert).dump())

    class SigningCertificateV2(CMSAttributeProvider):
        attribute_type = "signing_certificate_v2"

        async def build_attr_value(self, dry_run=False):
            return value

    class PadesSignedAttributes(SignedAttributeProviderSpec):
        def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str):
            yield SigningCertificateV2()

    return PadesSignedAttributes()


def _signer():
    from pyhanko.sign import signers
    key_path, cert_path = _paths()
    with _lock:
        ensure_certificate(key_path, cert_path)
        cache_key = (str(key_path), str(cert_path))
        if cache_key not in _signers:
            signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
            signer.signed_attr_prov_spec = _pades_signed_attributes(signer.signing_cert)
            _signers[cache_key] = signer
        return _signers[cache_key]


def _bytes_reserved(signer) -> int:
    """Room for the CMS signature, from the certificates it carries plus a margin for the signed attributes and
    the signature value (up to RSA-4096): known in advance, so pyHanko does not sign a dummy first to measure it
    (which doubled the cost of signing). Cached with the signer."""
    reserved = getattr(signer, "_tenderbox_bytes_reserved", None)
    if reserved is None:
        certificates = [signer.signing_cert, *(signer.cert_registry or ())]
        reserved = 4096 + sum(len(cert.dump()) for cert in certificates if cert is not None)
        reserved += reserved % 2  # pyHanko wants an even number (hex digits of whole bytes)
        signer._tenderbox_bytes_reserved = reserved
    return reserved


_STAMP_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # how pyHanko hands the signing time to the stamp (its own zone)


def hong_kong_stamp_time(ts: str) -> str:
    """The signing time as pyHanko formats it (_STAMP_TIME_FORMAT, in the server's zone), in Hong Kong time."""
    return f"{datetime.strptime(ts, _STAMP_TIME_FORMAT).astimezone(HK):%Y-%m-%d %H:%M:%S} HKT (UTC+8)"


@functools.cache
def _stamp_style():
    """The visible stamp, whose time is the signature's own (/M), shown in Hong Kong time as every date is."""
    from pyhanko.stamp import TextStampStyle

    class HongKongTimeStampStyle(TextStampStyle):
        def create_stamp(self, writer, box, text_params):
            return super().create_stamp(writer, box, {**text_params, "ts": hong_kong_stamp_time(text_params["ts"])})

    return HongKongTimeStampStyle(
        stamp_text="Digitally signed by %(signer)s\nat %(ts)s\nSHA-256 of the document as rendered:\n%(rendered)s",
        timestamp_format=_STAMP_TIME_FORMAT, border_width=0)


def sign_pdf(pdf: bytes, *, reason: str, location: str = "Hong Kong") -> bytes:
    """Sign pdf (an incremental update, PAdES baseline B): the last page carries a visible stamp with the SHA-256
    of the document as rendered (the signed revision), since no file can print its own final hash."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    rendered_sha256 = hashlib.sha256(pdf).hexdigest()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="TenderboxSignature", reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    field = fields.SigFieldSpec("TenderboxSignature", on_page=-1, box=(51, 40, 544, 100))
    signer = _signer()
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=_stamp_style(), new_field_spec=field)
    out = io.BytesIO()
    _outside_event_loop(lambda: pdf_signer.sign_pdf(writer, output=out, bytes_reserved=_bytes_reserved(signer),
                                                    appearance_text_params={"rendered": rendered_sha256}))
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    whole_file: bool = False
    signer: str = ""
    error: str = ""

    @property
    def is_signed_original(self) -> bool:
        return self.signed and self.intact and self.valid and self.trusted and self.whole_file


def check_signature(pdf: bytes) -> SignatureCheck:
    """Validate the last signature of pdf with pyHanko against the organisation's certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext
    from pyhanko.keys import load_cert_from_pemder

    _signer()  # the certificate exists
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # not a PDF, or too damaged to read
        return SignatureCheck(signed=False, error=f"{type(exc).__name__}")
    if not signatures:
        return SignatureCheck(signed=False)
    try:
        context = ValidationContext(trust_roots=[load_cert_from_pemder(str(_paths()[1]))])
        status = _outside_event_loop(lambda: validate_pdf_signature(signatures[-1], context))
    except Exception as exc:
        return SignatureCheck(signed=True, error=f"{type(exc).__name__}: {exc}"[:200])
    return SignatureCheck(signed=True, intact=status.intact, valid=status.valid, trusted=status.trusted,
                          whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                          signer=status.signing_cert.subject.human_friendly)
