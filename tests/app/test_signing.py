"""PAdES signatures: what the signed attributes carry, and that the pre-encoded signing-certificate attribute
is the one of the certificate in use (a fast path must not sign with a stale or wrong certificate reference)."""
import hashlib
import io

from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from app.documents.render import render_pdf
from app.documents.signing import _signer, check_signature, sign_pdf

HTML = "<html lang='en'><body><h1>Award letter 中標通知書</h1><p>Signed test letter.</p></body></html>"


def _signed_attributes(pdf: bytes) -> dict:
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    signer_info = signature.signed_data["signer_infos"][0]
    return {attr["type"].native: attr["values"] for attr in signer_info["signed_attrs"]}


def test_signature_carries_pades_attributes_of_the_current_certificate(app):
    with app.app_context():
        pdf = render_pdf(HTML)
        signed = sign_pdf(pdf, reason="Issued")
        check = check_signature(signed)
        assert check.is_signed_original, check
        attrs = _signed_attributes(signed)
        # PAdES baseline B: content type, message digest, signing-certificate-v2; no signing time in the CMS
        assert set(attrs) == {"content_type", "message_digest", "signing_certificate_v2"}
        cert = _signer().signing_cert
        ess = attrs["signing_certificate_v2"][0]["certs"][0]
        assert ess["cert_hash"].native == hashlib.sha256(cert.dump()).digest()
        assert ess["issuer_serial"]["serial_number"].native == cert.serial_number
        # the message digest is of this document's byte ranges: two signatures of two documents differ
        other = sign_pdf(render_pdf(HTML.replace("Signed test letter", "Another letter")), reason="Issued")
        assert _signed_attributes(other)["message_digest"][0].native != attrs["message_digest"][0].native
        assert isinstance(PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1].signed_data, cms.SignedData)


def test_a_changed_byte_breaks_the_signature(app):
    with app.app_context():
        signed = bytearray(sign_pdf(render_pdf(HTML), reason="Issued"))
        signed[len(signed) // 4] ^= 0x01
        assert not check_signature(bytes(signed)).is_signed_original


def _stamp_lines(pdf: bytes) -> list[str]:
    """The visible stamp's text lines, from the signature field's appearance stream (PDF literal strings)."""
    import re
    field = PdfFileReader(io.BytesIO(pdf)).root["/AcroForm"]["/Fields"][-1]
    stream = field["/AP"]["/N"].data.decode("latin-1")
    unescape = lambda s: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)  # noqa: E731
    return [unescape(s) for s in re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", stream)]


def test_the_visible_stamp_shows_the_signing_time_in_hong_kong_time(app):
    import re
    from datetime import datetime, timezone

    from app.i18n import HK
    with app.app_context():
        signed = sign_pdf(render_pdf(HTML), reason="Issued")
    m = str(PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1].sig_object["/M"])  # D:YYYYmmddHHMMSSZ, UTC
    signed_at = datetime.strptime(m[2:16], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    lines = _stamp_lines(signed)
    assert lines[0].startswith("Digitally signed by "), lines
    assert lines[1] == f"at {signed_at.astimezone(HK):%Y-%m-%d %H:%M:%S} HKT (UTC+8)", (lines, m)
    assert f"{signed_at:%H:%M:%S}" not in lines[1]  # not the UTC time (Hong Kong is 8 hours ahead)
    assert lines[2] == "SHA-256 of the document as rendered:" and re.fullmatch(r"[0-9a-f]{64}", lines[3]), lines
