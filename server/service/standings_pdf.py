"""The printable championship: a series' standings per class as an A4 PDF (fpdf2).

Strategy: the same rows as the JSON and CSV (``server.season.standings.StandingRow``),
one table per class, each result listed with its points and bonuses and a dropped
sprint marked "not counted". The heading says what the numbers are made of (official
results only; how Fast Five is judged). fpdf2's core fonts are Latin-1: other characters
print as "?" rather than fail the export.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from server.season.standings import Credit, StandingRow

# mm, portrait A4 (190 mm between the margins)
_WIDTHS = (12, 46, 16, 12, 104)
BONUS_NAMES = {"winner": "winner", "fast_five": "Fast Five", "on_the_move": "On the Move"}


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def credit_text(credit: Credit) -> str:
    """``Spring 6h Race: P2 3 (On the Move)``, and `` - not counted`` for a dropped one."""
    bonuses = ", ".join(BONUS_NAMES.get(bonus, bonus) for bonus in credit.bonuses)
    text = f"{credit.event} {credit.session}: P{credit.position} {credit.points}"
    text += f" ({bonuses})" if bonuses else ""
    return text + ("" if credit.counted else " - not counted")


def standings_pdf(series: str, by: str, table: dict[str, tuple[StandingRow, ...]]) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(_latin1(f"{series} - standings by {by}"))
    pdf.set_creator("racecontrol")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(series), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    heading = "Championship standings by " + ("team (endurance)" if by == "team" else "driver")
    pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        4,
        "From official results only. Fast Five: the smallest spread (fastest minus slowest) "
        "of a car's five fastest valid laps in its class.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if not table:
        pdf.ln(2)
        pdf.cell(0, 6, "No official results yet.", new_x="LMARGIN", new_y="NEXT")
    face = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    for car_class, rows in table.items():
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _latin1(f"Class {car_class}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        with pdf.table(col_widths=_WIDTHS, width=sum(_WIDTHS), headings_style=face) as out:
            out.row(["Pos", "Team" if by == "team" else "Driver", "Points", "Wins", "Results"])
            for row in rows:
                results = "\n".join(credit_text(credit) for credit in row.results)
                cells = [str(row.position), row.name, str(row.points), str(row.wins), results]
                out.row([_latin1(cell) for cell in cells])
    return bytes(pdf.output())
