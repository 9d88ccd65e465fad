"""RMonitor codec: byte tables for every record, CSV quoting, cp1252, framing, bad lines.

The sample lines are the examples of the RMonitor Timing Protocol specification (Track
Timing / AMB, v1.0) and of IMSA's Enhanced RMon protocol (v1.03), as quoted by public
parsers, plus forms seen in live feeds (empty laps, alphanumeric transponders, run 95).
"""

from __future__ import annotations

import pytest

from timing_adapters.rmonitor import (
    BadLine,
    BadLineReason,
    ClassInfo,
    Competitor,
    CompetitorExt,
    DecodeResult,
    Flag,
    Heartbeat,
    Init,
    LineCrossing,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    RMonitorDecoder,
    Run,
    Setting,
    UnknownRecord,
    decode_line,
    encode,
)

S = 1_000_000  # microseconds per second


def hms(h: int, m: int, s: int, ms: int = 0) -> int:
    return ((h * 60 + m) * 60 + s) * S + ms * 1000


# (wire line without CR LF, record, re-encodes byte-exact)
TABLE: list[tuple[bytes, DecodeResult, bool]] = [
    (
        b'$F,14,"00:12:45","13:34:23","00:09:47","Green "',
        Heartbeat(14, hms(0, 12, 45), hms(13, 34, 23), hms(0, 9, 47), Flag.GREEN),
        True,
    ),
    (
        b'$F,9999,"00:00:00","15:27:24","00:00:00","      "',
        Heartbeat(9999, 0, hms(15, 27, 24), 0, Flag.NONE),
        True,
    ),
    (
        b'$F,9,"00:00:00","15:32:59","00:01:11","Yellow"',
        Heartbeat(9, 0, hms(15, 32, 59), hms(0, 1, 11), Flag.YELLOW),
        True,
    ),
    (
        b'$F,0,"00:00:00","16:00:00","25:10:02.500","Finish"',  # past 24 h: an enduro
        Heartbeat(0, 0, hms(16, 0, 0), hms(25, 10, 2, 500), Flag.FINISH),
        True,
    ),
    (
        b'$A,"1234BE","12X",52474,"John","Johnson","USA",5',
        Competitor("1234BE", "12X", "52474", "John", "Johnson", "USA", 5),
        True,
    ),
    (
        b'$A,"26","26",NE4,"Michael","Barron","Legend Coupe",1',  # a hire transponder
        Competitor("26", "26", "NE4", "Michael", "Barron", "Legend Coupe", 1),
        True,
    ),
    (
        b'$COMP,"1234BE","12X",5,"John","Johnson","USA","CAMEL"',
        CompetitorExt("1234BE", "12X", 5, "John", "Johnson", "USA", "CAMEL"),
        True,
    ),
    (b'$B,5,"Friday free practice"', Run(5, "Friday free practice"), True),
    (b'$B,95,"Race 5 - 1st Race"', Run(95, "Race 5 - 1st Race"), True),
    (b'$C,5,"Formula 300"', ClassInfo(5, "Formula 300"), True),
    (
        b'$E,"TRACKNAME","Indianapolis Motor Speedway"',
        Setting("TRACKNAME", "Indianapolis Motor Speedway"),
        True,
    ),
    (b'$E,"TRACKLENGTH","2.500"', Setting("TRACKLENGTH", "2.500"), True),
    (
        b'$G,3,"1234BE",14,"01:12:47.872"',
        RacePosition(3, "1234BE", 14, hms(1, 12, 47, 872)),
        True,
    ),
    (b'$G,1,"21",,"00:00:56.665"', RacePosition(1, "21", None, hms(0, 0, 56, 665)), True),
    (
        b'$H,2,"1234BE",3,"00:02:17.872"',
        PracticePosition(2, "1234BE", 3, hms(0, 2, 17, 872)),
        True,
    ),
    (b'$H,1,"21",0,"00:59:59.999"', PracticePosition(1, "21", 0, hms(0, 59, 59, 999)), True),
    (b'$I,"16:36:08.000","12 jan 01"', Init(hms(16, 36, 8), "12 jan 01"), False),
    (b'$I,"10:03:08","27 Jan 09"', Init(hms(10, 3, 8), "27 Jan 09"), True),
    (
        b'$J,"1234BE","00:02:03.826","01:42:17.672"',
        Passing("1234BE", hms(0, 2, 3, 826), hms(1, 42, 17, 672)),
        True,
    ),
    (b'$J,"21","00:00:00.000","00:00:56.665"', Passing("21", 0, hms(0, 0, 56, 665)), True),
    (
        b'$L,"13","P2","POP","01/27/2009","10:10:20.589",1,"PC"',
        LineCrossing("13", "P2", "POP", "01/27/2009", hms(10, 10, 20, 589), 1, "PC"),
        True,
    ),
    (
        b'$L,"15","P1","SFP","01/27/2009","14:13:22.818"',
        LineCrossing("15", "P1", "SFP", "01/27/2009", hms(14, 13, 22, 818)),
        True,
    ),
    (
        b'$RMHL,"23","11","1","00:01:26.000","Green ","00:16:19.395"',
        UnknownRecord("$RMHL", ("23", "11", "1", "00:01:26.000", "Green ", "00:16:19.395")),
        True,
    ),
    (b"$RMLT,23,1502617364576", UnknownRecord("$RMLT", ("23", "1502617364576")), False),
    (b"$RMDTL", UnknownRecord("$RMDTL"), True),
]


@pytest.mark.parametrize(("wire", "record", "exact"), TABLE)
def test_byte_table(wire: bytes, record: DecodeResult, exact: bool) -> None:
    decoded = decode_line(wire)
    assert decoded == record
    assert not isinstance(decoded, BadLine)
    assert decode_line(encode(decoded)[:-2]) == record
    if exact:
        assert encode(decoded) == wire + b"\r\n"


def test_numbers_may_be_quoted_and_text_bare() -> None:
    assert decode_line(b'$G,"3",1234BE,"14","01:12:47.872"') == RacePosition(
        3, "1234BE", 14, hms(1, 12, 47, 872)
    )


def test_quoted_fields_keep_commas_and_doubled_quotes() -> None:
    wire = b'$A,"7","7",77,"Smith, Jr.","The ""Rocket""","",2'
    record = Competitor("7", "7", "77", "Smith, Jr.", 'The "Rocket"', "", 2)
    assert decode_line(wire) == record
    assert encode(record) == wire + b"\r\n"


def test_cp1252_text_both_ways() -> None:
    wire = '$COMP,"9","9",1,"Jürgen","Åkesson","Dupré","Team €"'.encode("cp1252")
    record = CompetitorExt("9", "9", 1, "Jürgen", "Åkesson", "Dupré", "Team €")
    assert decode_line(wire) == record
    assert encode(record) == wire + b"\r\n"


def test_text_outside_cp1252_raises_unless_replaced() -> None:
    record = Setting("TRACKNAME", "Łódź")
    with pytest.raises(ValueError):
        encode(record)
    assert encode(record, errors="replace") == b'$E,"TRACKNAME","?\xf3d?"\r\n'


def test_bytes_cp1252_lacks_are_replaced_not_fatal() -> None:
    assert decode_line(b'$C,1,"A\x81B"') == ClassInfo(1, "A\ufffdB")


def test_imsa_fields_appended_to_a_record_are_kept() -> None:
    wire = b'$J,"21","00:01:00.000","00:10:00.000","S1","x"'
    record = decode_line(wire)
    assert record == Passing("21", 60 * S, 600 * S, extra=("S1", "x"))
    assert encode(record) == wire + b"\r\n"


def test_line_crossing_optional_fields() -> None:
    no_driver = LineCrossing("5", "T1", "SF", "01/27/2009", hms(10, 0, 0), None, "GTD")
    assert encode(no_driver) == b'$L,"5","T1","SF","01/27/2009","10:00:00.000",,"GTD"\r\n'
    assert decode_line(encode(no_driver)[:-2]) == no_driver
    empty_class = LineCrossing("5", "T1", "SF", "d", hms(10, 0, 0), 2, "")
    assert decode_line(encode(empty_class)[:-2]) == empty_class


BAD: list[tuple[bytes, BadLineReason]] = [
    (b'G,3,"1234BE",14,"01:12:47.872"', BadLineReason.NO_START),  # head cut off
    (b'"00:02:03.826","01:42:17.672"', BadLineReason.NO_START),
    (b'$G,3,"1234BE",14,"01:12:4', BadLineReason.BAD_QUOTING),  # cut inside a quote
    (b'$G,3,"1234BE",14', BadLineReason.MISSING_FIELDS),  # cut between fields
    (b"$J", BadLineReason.MISSING_FIELDS),
    # Cut short and glued to the next record:
    (b'$G,3,"1234BE",14,"01:1$J,"1234BE","00:02:03.826","01:42:17.672"', BadLineReason.BAD_QUOTING),
    (b'$C,5$F,14,"00:12:45","13:34:23","00:09:47","Green "', BadLineReason.SPLICED),
    (b'$F,14,"00:12:45","13:34:23","00:09:47","Green "$F,14', BadLineReason.BAD_QUOTING),
    (b"$RMLT,23,15026$F,14", BadLineReason.SPLICED),
    (b'$G,3,"1234BE",fourteen,"01:12:47.872"', BadLineReason.BAD_FIELD),
    (b'$J,"1","2:03.826","01:42:17.672"', BadLineReason.BAD_FIELD),
    (b'$J,"1","00:61:03.826","01:42:17.672"', BadLineReason.BAD_FIELD),
    (b'$B,-5,"x"', BadLineReason.BAD_FIELD),
    (b'$F$G,1,"2",3,"00:00:01.000"', BadLineReason.BAD_COMMAND),
    (b'"$B",5,"x"', BadLineReason.NO_START),
    (b'$"B",5', BadLineReason.BAD_QUOTING),
    (b"$,1,2", BadLineReason.BAD_COMMAND),
]


@pytest.mark.parametrize(("wire", "reason"), BAD)
def test_bad_lines(wire: bytes, reason: BadLineReason) -> None:
    assert decode_line(wire) == BadLine(reason, wire)


def test_bad_lines_are_counted_and_the_feed_goes_on() -> None:
    good = b'$J,"21","00:01:00.000","00:10:00.000"\r\n'
    stream = good + b"\r\n".join(wire for wire, _ in BAD) + b"\r\n" + good
    decoder = RMonitorDecoder()
    results = decoder.receive(stream)
    assert [r.reason for r in results if isinstance(r, BadLine)] == [r for _, r in BAD]
    assert results[0] == results[-1] == Passing("21", 60 * S, 600 * S)
    assert (decoder.records, decoder.bad_lines, decoder.buffered) == (2, len(BAD), 0)


def test_unknown_records_are_counted_as_records() -> None:
    decoder = RMonitorDecoder()
    results = decoder.receive(b'$RMS,"race"\r\n$RMCA,1502617364000\r\n$B,1,"x"\r\n')
    assert results[:2] == [
        UnknownRecord("$RMS", ("race",)),
        UnknownRecord("$RMCA", ("1502617364000",)),
    ]
    assert (decoder.records, decoder.unknown, decoder.bad_lines) == (3, 2, 0)


def test_line_ends_and_splits() -> None:
    lines = [b'$B,5,"Friday free practice"', b'$C,5,"Formula 300"', b'$E,"TRACKLENGTH","2.500"']
    expected = [decode_line(line) for line in lines]
    crlf = b"\r\n".join(lines) + b"\r\n"
    assert RMonitorDecoder().receive(crlf) == expected
    assert RMonitorDecoder().receive(crlf.replace(b"\r\n", b"\n")) == expected  # bare LF
    assert RMonitorDecoder().receive(crlf.replace(b"\r\n", b"\r\n\r\n")) == expected  # blanks
    decoder = RMonitorDecoder()
    byte_at_a_time = [r for i in range(len(crlf)) for r in decoder.receive(crlf[i : i + 1])]
    assert byte_at_a_time == expected
    decoder = RMonitorDecoder()
    assert decoder.receive(crlf[:-1]) == expected[:2]  # the CR is there, the LF is not
    assert decoder.buffered == len(lines[2]) + 1
    assert decoder.receive(b"\n") == expected[2:]


def test_oversize_line_is_reported_once_and_skipped() -> None:
    decoder = RMonitorDecoder(max_line=64)
    long = b'$E,"TRACKNAME","' + b"x" * 500 + b'"'
    results = []
    for i in range(0, len(long), 7):  # arriving in small pieces, never holding all of it
        results += decoder.receive(long[i : i + 7])
        assert decoder.buffered <= 64 + 8
    results += decoder.receive(b'\r\n$C,1,"A"\r\n')
    assert results == [BadLine(BadLineReason.OVERSIZE, long[:64]), ClassInfo(1, "A")]
    assert (decoder.bad_lines, decoder.records) == (1, 1)
    assert decoder.skipped_bytes == len(long) - 64 + 2


def test_oversize_line_in_one_chunk() -> None:
    decoder = RMonitorDecoder(max_line=64)
    results = decoder.receive(b"$RMX," + b"1" * 100 + b'\r\n$C,1,"A"\r\n')
    assert [type(r) for r in results] == [BadLine, ClassInfo]
    assert results[0].reason == BadLineReason.OVERSIZE  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "record",
    [
        Passing("1", 1, 0),  # finer than the millisecond
        Passing("1", -1000, 0),
        RacePosition(1, "1", -1, None),
        UnknownRecord("RMX", ()),
        Heartbeat(1, 0, 0, 1000 * 3600 * S, Flag.GREEN),  # past 999 hours
    ],
)
def test_encoder_refuses_what_the_wire_cannot_carry(record: Passing) -> None:
    with pytest.raises(ValueError):
        encode(record)


@pytest.mark.parametrize(
    ("record", "wire"),
    [
        (ClassInfo(1, "two\r\nlines"), b'$C,1,"two  lines"\r\n'),
        (Run(7, 'Race\r\n$B,666,"spoofed"'), b'$B,7,"Race  $B,666,""spoofed"""\r\n'),
        (Setting("A\x00B", "tab\there\x1b\x7f\x85"), b'$E,"A B","tab here   "\r\n'),
        (UnknownRecord("$X", ("line\u2028sep",)), b'$X,"line sep"\r\n'),
    ],
)
def test_encoder_sanitises_control_characters_in_text(record: Record, wire: bytes) -> None:
    assert encode(record) == wire
    decoded = decode_line(wire[:-2])
    assert not isinstance(decoded, BadLine)
    assert encode(decoded) == wire  # a fixed point: sanitised text goes through unchanged
