#include "codecs/composite.hpp"

namespace pgingest {

FieldStart begin_record(ByteBuffer& out, std::uint32_t field_count) {
    FieldStart start = begin_field(out);
    out.put_u32(field_count);
    return start;
}

Status end_record(ByteBuffer& out, FieldStart start) { return end_field(out, start); }

namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Status record_error(std::size_t at) noexcept {
    return Status{Errc::invalid_composite_text, static_cast<std::uint32_t>(at)};
}

// One field from `at` up to ',' or ')' outside quotes (record_in's inner loop).
Status parse_field(std::string_view text, std::size_t& at, RecordText& out) {
    const std::size_t offset = out.chars.size();
    if (at < text.size() && (text[at] == ',' || text[at] == ')')) {
        out.fields.push_back({static_cast<std::uint32_t>(offset), -1});
        return Status{};
    }
    bool in_quote = false;
    while (at < text.size() && (in_quote || (text[at] != ',' && text[at] != ')'))) {
        char c = text[at++];
        if (c == '\\') {
            if (at >= text.size()) {
                return record_error(at);
            }
            out.chars += text[at++];
        } else if (c == '"') {
            if (!in_quote) {
                in_quote = true;
            } else if (at < text.size() && text[at] == '"') {
                out.chars += '"';
                at++;
            } else {
                in_quote = false;
            }
        } else {
            out.chars += c;
        }
    }
    if (at >= text.size()) {
        return record_error(at);
    }
    out.fields.push_back({static_cast<std::uint32_t>(offset),
                          static_cast<std::int32_t>(out.chars.size() - offset)});
    return Status{};
}

}  // namespace

Status parse_record_text(std::string_view text, std::size_t field_count, RecordText& out) {
    out.chars.clear();
    out.fields.clear();
    std::size_t at = 0;
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    if (at >= text.size() || text[at] != '(') {
        return record_error(at);
    }
    at++;
    for (std::size_t field = 0; field < field_count; field++) {
        if (field > 0) {
            if (at >= text.size() || text[at] != ',') {
                return record_error(at);  // "Too few columns."
            }
            at++;
        }
        Status status = parse_field(text, at, out);
        if (!status.ok()) {
            return status;
        }
    }
    if (at >= text.size() || text[at] != ')') {
        return record_error(at);  // "Too many columns."
    }
    at++;
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at == text.size() ? Status{} : record_error(at);
}

}  // namespace pgingest
