#include "codecs/text.hpp"

#include <cstdint>
#include <cstring>

#include "codecs/copy_binary.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

namespace {

// NAMEDATALEN (pg_config_manual.h): a name holds at most 63 bytes plus its terminator.
constexpr std::size_t name_size_max = 63;

// Appends [length][bytes]; the caller has checked the size against copy_field_size_max.
void put_field(ByteBuffer& out, std::string_view bytes) {
    char* at = out.extend(text_encoded_size_max(bytes.size()));
    ByteBuffer::store_be(at, static_cast<std::uint32_t>(bytes.size()));
    if (!bytes.empty()) {
        std::memcpy(at + 4, bytes.data(), bytes.size());
    }
}

// The size check comes first: Status::position is 32 bits and the validator need not look at
// gigabytes the server would refuse anyway.
Status check_text(std::string_view text) noexcept {
    if (text.size() > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    return validate_text(text);
}

// Byte offset where character number `chars` (0-based) starts in valid UTF-8 `text`, or
// text.size() when it has no more characters: pg_mbcharcliplen(s, len, chars).
std::size_t char_boundary(std::string_view text, std::size_t chars) noexcept {
    std::size_t seen = 0;
    for (std::size_t at = 0; at < text.size(); at++) {
        // Every character starts with a byte that is not a continuation byte (10xxxxxx).
        if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80) {
            if (seen == chars) {
                return at;
            }
            seen++;
        }
    }
    return text.size();
}

// varchar_input / bpchar_input: the part of `text` the server keeps for a limit of `chars`
// characters, or string_too_long at the first excess character.
Status clip_to_chars(std::string_view& text, std::size_t chars) noexcept {
    // A character is at least one byte, so bytes ≤ limit means characters ≤ limit, as the
    // server's own shortcut (`len > maxlen`) assumes.
    if (text.size() <= chars) {
        return Status{};
    }
    std::size_t keep = char_boundary(text, chars);
    for (std::size_t at = keep; at < text.size(); at++) {
        if (text[at] != ' ') {
            return Status{Errc::string_too_long, static_cast<std::uint32_t>(keep)};
        }
    }
    text = text.substr(0, keep);
    return Status{};
}

Status encode_limited(ByteBuffer& out, std::string_view text, std::size_t length_max_chars) {
    PGINGEST_ASSERT(length_max_chars >= 1);
    Status status = check_text(text);
    if (status.ok()) {
        status = clip_to_chars(text, length_max_chars);
    }
    if (status.ok()) {
        put_field(out, text);
    }
    return status;
}

}  // namespace

Status encode_text(ByteBuffer& out, std::string_view text) {
    Status status = check_text(text);
    if (status.ok()) {
        put_field(out, text);
    }
    return status;
}

Status encode_varchar(ByteBuffer& out, std::string_view text, std::size_t length_max_chars) {
    return encode_limited(out, text, length_max_chars);
}

Status encode_bpchar(ByteBuffer& out, std::string_view text, std::size_t length_max_chars) {
    return encode_limited(out, text, length_max_chars);
}

Status encode_name(ByteBuffer& out, std::string_view text) {
    Status status = check_text(text);
    if (status.ok() && text.size() > name_size_max) {
        status = Status{Errc::string_too_long, static_cast<std::uint32_t>(name_size_max)};
    }
    if (status.ok()) {
        put_field(out, text);
    }
    return status;
}

Status finish_text_in_place(ByteBuffer& out, std::size_t field_at, std::size_t length_max_chars,
                            bool name) {
    std::string_view text(out.data() + field_at + 4, out.size() - field_at - 4);
    Status status = check_text(text);
    if (status.ok() && name && text.size() > name_size_max) {
        status = Status{Errc::string_too_long, static_cast<std::uint32_t>(name_size_max)};
    }
    if (status.ok() && length_max_chars > 0) {
        status = clip_to_chars(text, length_max_chars);
    }
    if (!status.ok()) {
        out.truncate(field_at);
        return status;
    }
    out.truncate(field_at + 4 + text.size());
    out.patch_i32(field_at, static_cast<std::int32_t>(text.size()));
    return status;
}

Status encode_bytea(ByteBuffer& out, std::string_view bytes) {
    if (bytes.size() > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    put_field(out, bytes);
    return Status{};
}

Status encode_json(ByteBuffer& out, std::string_view json_text) {
    return encode_text(out, json_text);
}

}  // namespace pgingest
