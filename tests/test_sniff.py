"""The content sniffer: what a file really is, whatever its name says."""

import codecs

import pytest

from battlemap._sniff import sniff


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
@pytest.mark.parametrize("cut", [1, 2])
def test_text_cut_at_the_sample_end_is_text(bom, cut):
    """A CSV whose 65,536th byte falls inside a Chinese character is still text.

    pandas' ``to_csv(encoding="utf-8-sig")`` of the sample wrote such a file,
    and the bench's weekly round was refused as "neither a spreadsheet nor text".
    """
    line = "增城区荔城街道相江社区\n".encode()  # UTF-8 that is no GB18030 either
    body = line * (65536 // len(line))
    fill = 65536 - len(bom) - cut - len(body)
    data = bom + body + b"a" * fill + line * 3  # the sample ends ``cut`` bytes into 增
    assert sniff(data) == "text"


def test_binary_and_kinds():
    assert sniff(b"") == "empty"
    assert sniff(b"PK\x03\x04rest") == "zip"
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest") == "ole2"
    assert sniff(b"\xef\xbb\xbf<html><body>") == "html"
    assert sniff(b"\xff" * 400) == "binary"
