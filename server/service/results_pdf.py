"""The printable results: one A4 page (landscape) per version, made with fpdf2.

Strategy: the heading says what a steward signs (event, session, version, PROVISIONAL or
OFFICIAL and when it was signed); the table is ``ResultsDocument.table()``, the very
cells of the CSV and JSON. fpdf2's core fonts are Latin-1: other characters print as
"?" rather than fail the export.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from server.service.results import COLUMNS, ResultsDocument

# mm, landscape A4 (277 mm between the margins)
_WIDTHS = (9, 11, 14, 11, 38, 48, 11, 22, 18, 18, 18, 11, 11, 20, 17)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(doc: ResultsDocument) -> bytes:
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_title(_latin1(f"{doc.event} - {doc.session} - results v{doc.version}"))
    pdf.set_creator("racecontrol")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(doc.event), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    title = f"{doc.session} ({doc.kind}" + (", sprint)" if doc.part == "sprint" else ")")
    if doc.class_name is not None:
        title += f" - class {doc.class_name}"
    pdf.cell(0, 6, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    signed = doc.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    line = f"Version {doc.version} - {doc.label} - signed {signed}"
    pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    reason = doc.reason + (f" - {doc.note}" if doc.note else "")
    pdf.cell(0, 5, _latin1(reason), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 7)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=_WIDTHS, width=sum(_WIDTHS), headings_style=heading) as table:
        table.row(COLUMNS)
        for cells in doc.table():
            table.row([_latin1(cell) for cell in cells])
    return bytes(pdf.output())
