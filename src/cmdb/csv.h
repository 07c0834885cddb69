// RFC 4180 CSV, reading and writing, for the CMDB's bulk import and export.
//
// Reader: fields separated by ',', records ended by CRLF or LF (the last one may be missing);
// a field that starts with '"' is quoted and may hold ',', '"' (written '""'), CR and LF; a
// quote anywhere else in an unquoted field, text after a closing quote, a bare CR outside quotes
// and an unterminated quote are syntax errors. Blank lines are skipped; a UTF-8 byte-order mark
// at the very start is dropped; every record must have as many fields as the first (the header).
// Each record carries the 1-based line on which it starts (lines inside quoted fields count), so
// errors can name the line a person sees in an editor.
//
// Writer: a field is quoted when it holds ',', '"', CR or LF, or starts or ends with a space;
// records end with CRLF. Pure functions and a small value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::cmdb::csv {

struct Record {
  int64_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

class Reader {
 public:
  explicit Reader(std::string_view text);

  // The next record into `out`: true, or false at the end of the text. A syntax error is
  // kInvalidArgument with a message that starts "line N: " (the line where it was found).
  core::Result<bool> Next(Record& out);

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  size_t width_ = 0;  // fields per record, from the first record; 0: none read yet
};

// Every record of `text` (convenience for small inputs and tests).
core::Result<std::vector<Record>> ParseAll(std::string_view text);

// `field` as it must appear in a CSV record: quoted (with '"' doubled) when needed.
std::string Escape(std::string_view field);
// Appends one record: fields escaped, separated by ',', ended by CRLF.
void AppendRecord(std::string& out, const std::vector<std::string>& fields);

}  // namespace gantry::cmdb::csv
