"""PDF/A-3b plumbing: XMP, sRGB output intent, version 1.7, associated files.

reportlab writes the XMP packet and the output intent while it renders (no second parse);
`attach` adds the associated files with pikepdf in the Factur-X pattern (EmbeddedFiles
name tree + /AF on the catalog, each file spec with /AFRelationship), keeping version 1.7.
pyHanko's own `embed_file` would bump the file to PDF 2.0, so signing must come after this.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from io import BytesIO
from xml.sax.saxutils import escape

import pikepdf
from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFCatalog,
    PDFDictionary,
    PDFName,
    PDFStream,
    PDFString,
)
from reportlab.pdfgen.canvas import Canvas

PDF_VERSION = (1, 7)
PRODUCER = "Bangkok Transcripts (ReportLab)"
SRGB_ID = "sRGB IEC61966-2.1"
# pikepdf ships the sRGB profile (ICC v2) it uses for its own PDF/A output intents.
_ICC = (files("pikepdf") / "pdfa" / "data" / "sRGB.icc").read_bytes()
_ICC_FLATE = zlib.compress(_ICC, 9)
# Binary (Flate only) streams: ASCII85 makes files 25 % larger and costs ~7 ms a document.
rl_config.useA85 = 0


@dataclass(frozen=True)
class DocInfo:
    """Document metadata, written identically to the Info dictionary and the XMP packet."""

    title: str
    author: str
    subject: str
    keywords: str
    created: datetime


@dataclass(frozen=True)
class Attachment:
    """A PDF/A-3 associated file."""

    name: str
    data: bytes
    mime: str
    relationship: str  # "Data", "Source", "Supplement", "Alternative"...
    description: str


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def pdf_date(when: datetime) -> str:
    return _utc(when).strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp_date(when: datetime) -> str:
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _alt(value: str) -> str:
    return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt>'


def xmp_packet(info: DocInfo) -> bytes:
    """The XMP metadata: PDF/A-3B identification plus the Info entries, mirrored."""
    e = escape
    date = xmp_date(info.created)
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
<dc:format>application/pdf</dc:format>
<dc:title>{_alt(info.title)}</dc:title>
<dc:creator><rdf:Seq><rdf:li>{e(info.author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description>{_alt(info.subject)}</dc:description>
<pdf:Producer>{e(PRODUCER)}</pdf:Producer>
<pdf:Keywords>{e(info.keywords)}</pdf:Keywords>
<xmp:CreatorTool>{e(PRODUCER)}</xmp:CreatorTool>
<xmp:CreateDate>{date}</xmp:CreateDate>
<xmp:ModifyDate>{date}</xmp:ModifyDate>
<xmp:MetadataDate>{date}</xmp:MetadataDate>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


def new_canvas(buffer: BytesIO, pagesize: tuple[float, float], font: str, info: DocInfo) -> Canvas:
    """A reportlab canvas that writes a PDF/A-3B candidate: version 1.7, XMP, output intent.

    `invariant` keeps the output a pure function of the record (dates come from `info`).
    """
    c = Canvas(
        buffer,
        pagesize=pagesize,
        pdfVersion=PDF_VERSION,
        invariant=1,
        pageCompression=1,
        initialFontName=font,  # else reportlab sets the unembedded Helvetica on each page
        initialFontSize=9,
    )
    c.setTitle(info.title)
    c.setAuthor(info.author)
    c.setSubject(info.subject)
    c.setKeywords(info.keywords)
    c.setCreator(PRODUCER)
    c.setProducer(PRODUCER)
    stamp = pdf_date(info.created)
    c.setDateFormatter(lambda *_: stamp)

    doc = c._doc
    icc = PDFStream(
        PDFDictionary({"N": 3, "Filter": PDFName("FlateDecode")}), _ICC_FLATE
    )
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString(SRGB_ID),
            "RegistryName": PDFString("http://www.color.org"),
            "Info": PDFString(SRGB_ID),
            "DestOutputProfile": doc.Reference(icc),
        }
    )
    catalog = doc.Catalog
    catalog.__NoDefault__ = [*PDFCatalog.__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = PDFArray([intent])
    catalog.Metadata = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        xmp_packet(info),
    )
    return c


def attach(pdf: bytes, attachments: Sequence[Attachment]) -> bytes:
    """Embed `attachments` as PDF/A-3 associated files; return the new PDF (version 1.7).

    The files are dated with the document's creation date (the record's issue time).
    """
    with pikepdf.open(BytesIO(pdf)) as doc:
        stamp = str(doc.docinfo.get("/CreationDate", ""))
        af = pikepdf.Array()
        for a in attachments:
            spec = pikepdf.AttachedFileSpec(
                doc,
                a.data,
                description=a.description,
                filename=a.name,
                mime_type=a.mime,
                creation_date=stamp,
                mod_date=stamp,
                relationship=pikepdf.Name("/" + a.relationship),
            )
            doc.attachments[a.name] = spec
            af.append(doc.attachments[a.name].obj)
        doc.Root.AF = af
        for page in doc.pages:  # reportlab writes an empty /Trans; validators query it
            if "/Trans" in page.obj:
                del page.obj.Trans
        out = BytesIO()
        doc.save(out, force_version="1.7", deterministic_id=True)
    return out.getvalue()
