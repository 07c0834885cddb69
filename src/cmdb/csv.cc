#include "cmdb/csv.h"

namespace gantry::cmdb::csv {

namespace {

core::Error SyntaxError(int64_t line, const std::string& what) {
  return core::InvalidArgument("line " + std::to_string(line) + ": " + what);
}

}  // namespace

Reader::Reader(std::string_view text) : text_(text) {
  if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte-order mark (spreadsheets)
}

core::Result<bool> Reader::Next(Record& out) {
  // Blank lines between records are skipped.
  while (pos_ < text_.size()) {
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= text_.size()) return false;

  out.line = line_;
  out.fields.clear();
  std::string field;
  while (true) {
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      // Quoted field.
      int64_t opened = line_;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) {
          return SyntaxError(opened, "a quoted field starts here and is never closed");
        }
        char c = text_[pos_];
        if (c == '"') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
            field += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;  // closing quote
          break;
        }
        if (c == '\n') ++line_;
        field += c;
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return SyntaxError(line_, "unexpected '" + std::string(1, text_[pos_]) +
                                      "' after a closing quote (a quote inside a quoted field is "
                                      "written \"\")");
      }
    } else {
      // Unquoted field: up to ',', CR or LF.
      while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == ',' || c == '\n' || c == '\r') break;
        if (c == '"') {
          return SyntaxError(line_, "a quote inside an unquoted field (quote the whole field and "
                                    "write the quote as \"\")");
        }
        field += c;
        ++pos_;
      }
    }
    out.fields.push_back(field);
    if (pos_ >= text_.size()) break;
    char c = text_[pos_];
    if (c == ',') {
      ++pos_;
      continue;
    }
    if (c == '\n') {
      ++pos_;
      ++line_;
      break;
    }
    // c == '\r'
    if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      break;
    }
    return SyntaxError(line_, "a carriage return that does not end a line (lines end with CRLF or LF)");
  }
  if (width_ == 0) {
    width_ = out.fields.size();
  } else if (out.fields.size() != width_) {
    return SyntaxError(out.line, "the record has " + std::to_string(out.fields.size()) + " field" +
                                     (out.fields.size() == 1 ? "" : "s") + ", the header has " +
                                     std::to_string(width_));
  }
  return true;
}

core::Result<std::vector<Record>> ParseAll(std::string_view text) {
  Reader reader(text);
  std::vector<Record> out;
  Record r;
  while (true) {
    GANTRY_TRY(bool more, reader.Next(r));
    if (!more) break;
    out.push_back(std::move(r));
  }
  return out;
}

std::string Escape(std::string_view field) {
  bool quote = !field.empty() && (field.front() == ' ' || field.back() == ' ');
  for (char c : field) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') quote = true;
  }
  if (!quote) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void AppendRecord(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += Escape(fields[i]);
  }
  out += "\r\n";
}

}  // namespace gantry::cmdb::csv
