// RFC 4180 reader and writer of the CMDB's bulk import and export.
#include "cmdb/csv.h"

#include <gtest/gtest.h>

namespace gantry::cmdb::csv {
namespace {

using Fields = std::vector<std::string>;

std::vector<Fields> Rows(std::string_view text) {
  auto r = ParseAll(text);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  std::vector<Fields> out;
  if (r) {
    for (auto& rec : *r) out.push_back(rec.fields);
  }
  return out;
}

std::string ErrorOf(std::string_view text) {
  auto r = ParseAll(text);
  EXPECT_FALSE(r) << "parsed: " << text;
  return r ? "" : r.error().message;
}

TEST(Csv, PlainRecordsWithLfOrCrlfAndAnOptionalFinalLineBreak) {
  std::vector<Fields> want = {{"type", "name"}, {"server", "node-01"}, {"gpu", "node-01:gpu0"}};
  EXPECT_EQ(want, Rows("type,name\nserver,node-01\ngpu,node-01:gpu0\n"));
  EXPECT_EQ(want, Rows("type,name\r\nserver,node-01\r\ngpu,node-01:gpu0\r\n"));
  EXPECT_EQ(want, Rows("type,name\r\nserver,node-01\ngpu,node-01:gpu0"));
}

TEST(Csv, EmptyFieldsAreKept) {
  EXPECT_EQ((std::vector<Fields>{{"a", "b", "c"}, {"", "", ""}, {"x", "", ""}}),
            Rows("a,b,c\n,,\nx,,\n"));
}

TEST(Csv, QuotedFieldsHoldCommasDoubledQuotesAndLineBreaks) {
  auto rows = Rows("name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",\"crlf\r\ninside\"\n\"\",x\n");
  ASSERT_EQ(4u, rows.size());
  EXPECT_EQ((Fields{"a,b", "say \"hi\""}), rows[1]);
  EXPECT_EQ((Fields{"two\nlines", "crlf\r\ninside"}), rows[2]);
  EXPECT_EQ((Fields{"", "x"}), rows[3]);
}

TEST(Csv, RecordsKnowTheLineTheyStartOn) {
  auto r = ParseAll("h1,h2\n\"a\nb\nc\",1\n\nx,2\r\ny,3\n");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(4u, r->size());
  EXPECT_EQ(1, (*r)[0].line);
  EXPECT_EQ(2, (*r)[1].line);  // spans lines 2-4
  EXPECT_EQ(6, (*r)[2].line);  // line 5 is blank
  EXPECT_EQ(7, (*r)[3].line);
}

TEST(Csv, BlankLinesAndAByteOrderMarkAreSkipped) {
  EXPECT_EQ((std::vector<Fields>{{"a"}, {"b"}}), Rows("\xEF\xBB\xBF" "a\n\n\r\nb\n\n"));
  EXPECT_TRUE(Rows("").empty());
  EXPECT_TRUE(Rows("\n\n").empty());
}

TEST(Csv, SyntaxErrorsNameTheLine) {
  EXPECT_EQ("line 2: a quoted field starts here and is never closed", ErrorOf("a,b\nx,\"open\nnever closed"));
  EXPECT_EQ("line 2: a quote inside an unquoted field (quote the whole field and write the quote as \"\")",
            ErrorOf("a,b\nx,ab\"c\n"));
  EXPECT_EQ("line 2: unexpected 'x' after a closing quote (a quote inside a quoted field is written \"\")",
            ErrorOf("a,b\n\"q\"x,1\n"));
  EXPECT_EQ("line 1: a carriage return that does not end a line (lines end with CRLF or LF)", ErrorOf("a\rb\n"));
  EXPECT_EQ("line 3: the record has 3 fields, the header has 2", ErrorOf("a,b\n1,2\n1,2,3\n"));
  EXPECT_EQ("line 2: the record has 1 field, the header has 2", ErrorOf("a,b\n1\n"));
}

TEST(Csv, TheReaderStreamsAndStopsAtTheFirstError) {
  Reader reader("a,b\n1,2\n\"bad\n");
  Record rec;
  auto first = reader.Next(rec);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((Fields{"a", "b"}), rec.fields);
  auto second = reader.Next(rec);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((Fields{"1", "2"}), rec.fields);
  EXPECT_FALSE(reader.Next(rec));
}

TEST(Csv, EscapeQuotesOnlyWhenNeeded) {
  EXPECT_EQ("plain", Escape("plain"));
  EXPECT_EQ("", Escape(""));
  EXPECT_EQ("\"a,b\"", Escape("a,b"));
  EXPECT_EQ("\"say \"\"hi\"\"\"", Escape("say \"hi\""));
  EXPECT_EQ("\"two\nlines\"", Escape("two\nlines"));
  EXPECT_EQ("\"cr\rhere\"", Escape("cr\rhere"));
  EXPECT_EQ("\" padded \"", Escape(" padded "));
}

TEST(Csv, WrittenRecordsReadBackUnchanged) {
  std::vector<Fields> rows = {{"type", "name", "attr.note"},
                              {"server", "node-01", "a, \"quoted\"\nmulti-line note"},
                              {"server", "node-02", ""},
                              {"server", "x\r\ny", " lead"}};
  std::string text;
  for (const auto& r : rows) AppendRecord(text, r);
  EXPECT_TRUE(text.ends_with("\r\n"));
  EXPECT_EQ(rows, Rows(text));
}

}  // namespace
}  // namespace gantry::cmdb::csv
