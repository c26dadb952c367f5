#pragma once

// Arrays (FORMATS.md §2.6; utils/adt/arrayfuncs.c array_recv, ReadArrayBinary).
//
//   non-empty : [length:i32][ndim:i32][flags:i32][element OID:u32]([dim:i32][lbound:i32=1])×ndim
//               { [element length:i32][element data] | [-1:i32] (NULL) } × (product of dims)
//               elements in row-major order (the last dimension varies fastest)
//   empty     : [length:i32=12][ndim:i32=0][flags:i32=0][element OID:u32]
//
// flags is 1 when any element is NULL, else 0 (what array_send writes; array_recv accepts only
// 0 or 1 and otherwise ignores it). The element OID must equal the column's element type when
// both are built-in (< 10000), else 42804; for extension types any OID passes. Each element is
// exactly what the element type's encoder writes as a field, so the ordinary encoders
// (`encode_int4`, `encode_text`, ...) write elements.

#include <cstddef>
#include <cstdint>
#include <span>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Most elements an array may have: MaxArraySize = MaxAllocSize / sizeof(Datum)
/// (utils/array.h; arrayfuncs.c ArrayGetNItems: 54000 "array size exceeds the maximum allowed").
inline constexpr std::size_t array_elements_max = 134217727;

/// Most dimensions an array may have: MAXDIM (utils/array.h; array_recv: 54000).
inline constexpr std::size_t array_dimensions_max = 6;

/// Bytes an array of `element_count` elements appends when each element encodes to at most
/// `element_encoded_size_max` bytes (its own encoder's `..._encoded_size_max`, length prefix
/// included; 4 for a NULL). Pure.
constexpr std::size_t array_encoded_size_max(std::size_t element_count,
                                             std::size_t element_encoded_size_max) noexcept {
    return 4 + 20 + element_count * element_encoded_size_max;
}

/// Writes one array field into a ByteBuffer: construct it (it appends the field length and
/// header as placeholders), append each element with the element type's ordinary encoder on
/// the same buffer or `null_element()`, then `finish()`, which counts the elements and patches
/// the header and length.
///
/// Rolling back: if an element fails to encode (the encoder leaves the buffer unchanged), either
/// write `null_element()` in its place, or drop the whole array with `abandon()`, which truncates
/// the buffer to the size it had before the constructor ran. A writer destroyed without
/// `finish()` or `abandon()` abandons, so an early return cannot leave half an array behind.
/// After `finish()` or `abandon()` the writer must not be used again (asserted).
///
/// Between the constructor and `finish()`, only elements may be appended to the buffer: `finish`
/// walks them to count them and asserts that they tile the space exactly (a programmer error
/// otherwise). Not thread-safe; one writer per buffer at a time; allocates only when the buffer
/// grows.
class ArrayWriter {
public:
    /// Begins an array field of elements of type `element_oid` (codecs/oids.hpp for built-ins,
    /// the catalog's pg_type.oid for extension types) at the end of `out`, which must outlive
    /// the writer.
    ArrayWriter(ByteBuffer& out, std::uint32_t element_oid);
    /// Begins an array of `dimension_count` dimensions (1 ..= `array_dimensions_max`), to be
    /// completed with `finish(dims)`. (issue 10: multi-dimensional arrays)
    ArrayWriter(ByteBuffer& out, std::uint32_t element_oid, std::size_t dimension_count);
    /// Abandons the array (truncates the buffer back) unless `finish()` or `abandon()` ran.
    ~ArrayWriter();
    ArrayWriter(const ArrayWriter&) = delete;
    ArrayWriter& operator=(const ArrayWriter&) = delete;
    ArrayWriter(ArrayWriter&&) = delete;
    ArrayWriter& operator=(ArrayWriter&&) = delete;

    /// The buffer elements are appended to (the one given to the constructor).
    [[nodiscard]] ByteBuffer& out() noexcept { return _out; }

    /// Appends a NULL element (length -1, no data).
    void null_element();

    /// Completes the field: counts the elements, then patches ndim (0 and a 12-byte field for
    /// no elements, as the server writes `{}`), flags (1 if any element is NULL), element OID,
    /// dim, lbound 1 and the field length. Errors, after which the buffer is as it was before
    /// the constructor: `Errc::array_too_large` (position = the index of the first element over
    /// `array_elements_max`), `Errc::field_too_large` (position 0) when the field exceeds
    /// `copy_field_size_max` bytes.
    [[nodiscard]] Status finish();

    /// `finish` for an array begun with `dimension_count` dimensions: `dims` holds the length of
    /// each (outermost first), and the elements appended must number their product (asserted).
    /// A product of 0 writes the empty array, as the server stores any zero-length array.
    [[nodiscard]] Status finish(std::span<const std::uint32_t> dims);

    /// Drops the array: truncates the buffer to its size before the constructor.
    void abandon() noexcept;

private:
    ByteBuffer& _out;
    std::size_t _start;  // buffer size before the field; its length prefix is written here
    std::uint32_t _element_oid;
    std::size_t _dimension_count = 1;
    bool _open = true;
};

}  // namespace pgingest
