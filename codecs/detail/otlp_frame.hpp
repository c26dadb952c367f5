#pragma once

// The frame of `OtlpAttributeWalker`'s explicit stack, shared by its protobuf half
// (codecs/otlp_proto.cpp) and its JSON half (codecs/otlp_json.cpp).

#include <simdjson.h>

#include <cstddef>
#include <cstdint>

#include "codecs/otlp_model.hpp"

namespace pgingest {

/// One open attribute list, array or kvlist. Protobuf: the unread bytes [position, end) of the
/// message whose fields numbered `field_number` are the entries. JSON: the entries not yet
/// walked, [next, last).
struct OtlpAttributeWalker::Frame {
    std::size_t position = 0;
    std::size_t end = 0;
    std::uint32_t field_number = 0;
    std::uint8_t kind = 0;  ///< detail::otlp_frame_list, _kvlist or _array
    simdjson::dom::array::iterator next{};
    simdjson::dom::array::iterator last{};
};

namespace detail {
inline constexpr std::uint8_t otlp_frame_list = 0;    ///< a top-level attribute list
inline constexpr std::uint8_t otlp_frame_kvlist = 1;  ///< AnyValue.kvlist_value
inline constexpr std::uint8_t otlp_frame_array = 2;   ///< AnyValue.array_value
}  // namespace detail

}  // namespace pgingest
