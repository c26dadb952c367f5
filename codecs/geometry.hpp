#pragma once

// PostgreSQL's geometric types in binary COPY, parsed from the text a user writes by the rules of
// their input functions (backend/utils/adt/geo_ops.c, PG15: point_in, line_in, lseg_in, box_in,
// path_in, poly_in, circle_in, built on pair_decode, path_decode, pair_count and float8in_internal
// of float.c) and written as their send functions write them (point_send, ...). Every coordinate
// is a float8, big-endian IEEE 754 (pq_sendfloat8):
//
//   point   : [x:f64][y:f64]                                    point_recv
//   line    : [A:f64][B:f64][C:f64]          Ax + By + C = 0    line_recv  (A = B = 0 refused)
//   lseg    : [x1:f64][y1:f64][x2:f64][y2:f64]                  lseg_recv
//   box     : [high.x:f64][high.y:f64][low.x:f64][low.y:f64]    box_recv   (reorders corners)
//   path    : [closed:u8][npts:i32][x:f64 y:f64 × npts]         path_recv  (npts ≥ 1)
//   polygon : [npts:i32][x:f64 y:f64 × npts]                    poly_recv  (npts ≥ 1; computes
//                                                                           the bounding box)
//   circle  : [x:f64][y:f64][radius:f64]                        circle_recv (radius < 0 refused)
//
// Text forms (any number of spaces around numbers and delimiters; numbers as float8in: decimal,
// hex floats, NaN, Infinity, inf, any case):
//   point   `(x,y)`, `x,y`
//   line    `{A,B,C}`, or two distinct points as for lseg (stored as A,B,C like line_construct)
//   lseg    `[(x1,y1),(x2,y2)]`, `((x1,y1),(x2,y2))`, `(x1,y1),(x2,y2)`, `x1,y1,x2,y2`
//   box     `((x1,y1),(x2,y2))`, `(x1,y1),(x2,y2)`, `x1,y1,x2,y2` (no `[`); any two opposite
//           corners, stored as upper-right then lower-left (box_in)
//   path    `[(x1,y1),...]` open; `((x1,y1),...)`, `(x1,y1),...`, `(x1,y1,...)`, `x1,y1,...`
//           closed
//   polygon as a closed path (no `[`)
//   circle  `<(x,y),r>`, `((x,y),r)`, `(x,y),r`, `x,y,r`

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// One of the seven geometric types, for the generic `encode_geometry_text`.
enum class GeometryType : std::uint8_t { point, line, lseg, box, path, polygon, circle };

/// A point of the plane, as geo_decls.h Point.
struct GeoPoint {
    double x = 0;
    double y = 0;
};

/// Bytes of the fixed-size encodings (length prefix included).
inline constexpr std::size_t point_encoded_size = 4 + 16;
inline constexpr std::size_t line_encoded_size = 4 + 24;
inline constexpr std::size_t lseg_encoded_size = 4 + 32;
inline constexpr std::size_t box_encoded_size = 4 + 32;
inline constexpr std::size_t circle_encoded_size = 4 + 24;

/// Largest encoding of `text` as `type` (length prefix included): a path or polygon has at most
/// (commas + 1) / 2 points. Pure; scans `text` for path and polygon.
[[nodiscard]] std::size_t geometry_encoded_size_max(GeometryType type,
                                                    std::string_view text) noexcept;

/// Parses a float8 as float8in_internal (float.c) does inside a geometric value: leading
/// spaces, the number as glibc strtod reads it (plus `NaN`, `Infinity`, `inf` in any case), then
/// trailing spaces; `at` is left after them. `Errc::geometry_syntax` at the byte where no number
/// starts; `Errc::float_out_of_range` at the number when it overflows or underflows to zero
/// (server: 22003 "..." is out of range for type double precision). Pure, no allocation.
[[nodiscard]] Status parse_geo_float8(std::string_view text, std::size_t& at,
                                      double& value) noexcept;

/// Encodes `text` as `type` (see the file comment for the spellings). On any error the buffer is
/// unchanged. Errors, each at the byte where parsing stopped:
/// - `Errc::geometry_syntax`: the text is not the type's syntax, a NUL byte, a path or polygon
///   with an even number of commas, or a negative circle radius (server: 22P02 invalid input
///   syntax for type <type>);
/// - `Errc::float_out_of_range`: a coordinate overflows or underflows float8 (server: 22003);
/// - `Errc::line_invalid`: `{A,B,C}` with |A| and |B| ≤ 1e-6, or two points closer than 1e-6 in
///   both coordinates (server: 22P02 invalid line specification);
/// - `Errc::geometry_out_of_range`: the line through two points overflows or underflows float8
///   while computing its slope or C (server: 22003 value out of range: overflow/underflow).
/// Pure, any thread; allocates only if `out` must grow (reserve `geometry_encoded_size_max`).
[[nodiscard]] Status encode_geometry_text(ByteBuffer& out, GeometryType type,
                                          std::string_view text);

/// Appends a point field (point_send). Does not fail.
void encode_point(ByteBuffer& out, GeoPoint point);

/// Appends a circle field (circle_send); `Errc::geometry_syntax` (position 0, buffer
/// unchanged) for a radius < 0, which circle_recv refuses (22P03 invalid radius). NaN passes.
[[nodiscard]] Status encode_circle(ByteBuffer& out, GeoPoint center, double radius);

/// The PostgreSQL name of `type` ("point", "polygon", ...). Static string.
[[nodiscard]] const char* geometry_type_name(GeometryType type) noexcept;

}  // namespace pgingest
