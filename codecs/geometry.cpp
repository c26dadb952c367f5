#include "codecs/geometry.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "codecs/copy_binary.hpp"

namespace pgingest {

namespace {

// geo_ops.c delimiters.
constexpr char ldelim = '(';
constexpr char rdelim = ')';
constexpr char delim = ',';
constexpr char ldelim_ep = '[';
constexpr char rdelim_ep = ']';
constexpr char ldelim_c = '<';
constexpr char rdelim_c = '>';
constexpr char ldelim_l = '{';
constexpr char rdelim_l = '}';

// geo_decls.h EPSILON, FPzero and FPeq: the server's fuzzy comparisons.
constexpr double epsilon = 1.0e-06;

bool fp_zero(double a) noexcept {
    return std::fabs(a) <= epsilon;
}

bool fp_eq(double a, double b) noexcept {
    return a == b || std::fabs(a - b) <= epsilon;
}

// isspace() in the C locale, as geo_ops.c and float8in_internal call it.
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr std::uint32_t offset(std::size_t at) noexcept {
    return at > std::numeric_limits<std::uint32_t>::max()
               ? std::numeric_limits<std::uint32_t>::max()
               : static_cast<std::uint32_t>(at);
}

// strtod takes "0x" as a hexadecimal float only when a hex digit follows (maybe after a '.').
bool starts_hex_float(std::string_view text, std::size_t at) noexcept {
    if (at + 2 >= text.size() || text[at] != '0' || (text[at + 1] != 'x' && text[at + 1] != 'X')) {
        return false;
    }
    const char first = text[at + 2];
    return is_hex_digit(first) ||
           (first == '.' && at + 3 < text.size() && is_hex_digit(text[at + 3]));
}

// A cursor over the C string the server's input function walks. The text holds no NUL (checked
// up front), so `peek` returning '\0' at the end is exactly the C code's view.
struct Cursor {
    std::string_view text;
    std::size_t at = 0;
    Status status{};

    [[nodiscard]] char peek() const noexcept { return at < text.size() ? text[at] : '\0'; }
    void skip_spaces() noexcept {
        while (at < text.size() && is_space(text[at])) {
            at++;
        }
    }
    // Records a syntax error at the cursor; returns false for `return fail();`.
    bool fail() noexcept {
        status = Status{Errc::geometry_syntax, offset(at)};
        return false;
    }
    bool number(double& value) noexcept {
        status = parse_geo_float8(text, at, value);
        return status.ok();
    }
    // `if (*s++ != c) goto fail;`
    bool expect(char c) noexcept {
        if (peek() != c) {
            return fail();
        }
        at++;
        return true;
    }
    // geo_ops.c pair_decode with an end pointer: [(]x,y[)] and, after a ')', spaces.
    bool pair(GeoPoint& point) noexcept {
        skip_spaces();
        const bool has_delim = peek() == ldelim;
        if (has_delim) {
            at++;
        }
        if (!number(point.x) || !expect(delim) || !number(point.y)) {
            return false;
        }
        if (has_delim) {
            if (!expect(rdelim)) {
                return false;
            }
            skip_spaces();
        }
        return true;
    }
    bool at_end() noexcept { return at == text.size() || fail(); }
};

// geo_ops.c path_decode: optional '[' (when `open_allowed`) or '(' around `npts` pairs separated
// by optional commas; `emit(point)` receives each point in order. `is_open` tells a '['.
template <typename Emit>
bool path_decode(Cursor& cursor, bool open_allowed, std::size_t npts, bool& is_open, Emit emit) {
    int depth = 0;
    cursor.skip_spaces();
    is_open = cursor.peek() == ldelim_ep;
    if (is_open) {
        if (!open_allowed) {
            return cursor.fail();
        }
        depth++;
        cursor.at++;
    } else if (cursor.peek() == ldelim) {
        std::size_t next = cursor.at + 1;
        while (next < cursor.text.size() && is_space(cursor.text[next])) {
            next++;
        }
        // `strrchr(str, '(') == str`: this is the last '(' of the text.
        if ((next < cursor.text.size() && cursor.text[next] == ldelim) ||
            cursor.text.rfind(ldelim) == cursor.at) {
            depth++;
            cursor.at = next;
        }
    }
    for (std::size_t i = 0; i < npts; i++) {
        GeoPoint point;
        if (!cursor.pair(point)) {
            return false;
        }
        emit(point);
        if (cursor.peek() == delim) {
            cursor.at++;
        }
    }
    while (depth > 0) {
        const char c = cursor.peek();
        if (c != rdelim && !(c == rdelim_ep && is_open && depth == 1)) {
            return cursor.fail();
        }
        depth--;
        cursor.at++;
        cursor.skip_spaces();
    }
    return true;
}

// geo_ops.c pair_count: (commas + 1) / 2 points when the number of commas is odd, else 0.
std::size_t pair_count(std::string_view text) noexcept {
    std::size_t commas = 0;
    for (char c : text) {
        commas += c == delim ? 1 : 0;
    }
    return commas % 2 == 1 ? (commas + 1) / 2 : 0;
}

// Two points in a fixed array, for lseg, box and line.
bool decode_two(Cursor& cursor, bool open_allowed, GeoPoint (&points)[2]) {
    std::size_t count = 0;
    bool is_open = false;
    return path_decode(cursor, open_allowed, 2, is_open,
                       [&](GeoPoint point) { points[count++] = point; }) &&
           cursor.at_end();
}

void put_point(ByteBuffer& out, GeoPoint point) {
    out.put_f64(point.x);
    out.put_f64(point.y);
}

// float.h float8_mi / float8_mul / float8_div: false where the server raises 22003 (overflow,
// underflow). A zero divisor cannot reach these (point_sl checks it first).
bool float8_mi(double a, double b, double& result) noexcept {
    result = a - b;
    return !(std::isinf(result) && !std::isinf(a) && !std::isinf(b));
}

bool float8_mul(double a, double b, double& result) noexcept {
    result = a * b;
    return !(std::isinf(result) && !std::isinf(a) && !std::isinf(b)) &&
           !(result == 0.0 && a != 0.0 && b != 0.0);
}

bool float8_div(double a, double b, double& result) noexcept {
    result = a / b;
    return !(std::isinf(result) && !std::isinf(a)) &&
           !(result == 0.0 && a != 0.0 && !std::isinf(b));
}

// geo_ops.c point_eq_point: exact when a NaN is involved, else within EPSILON.
bool point_eq_point(GeoPoint a, GeoPoint b) noexcept {
    if (std::isnan(a.x) || std::isnan(a.y) || std::isnan(b.x) || std::isnan(b.y)) {
        auto eq = [](double u, double v) { return (std::isnan(u) && std::isnan(v)) || u == v; };
        return eq(a.x, b.x) && eq(a.y, b.y);
    }
    return fp_eq(a.x, b.x) && fp_eq(a.y, b.y);
}

// geo_ops.c line_construct(line, p0, point_sl(p0, p1)): the line's A, B, C.
Status line_through(GeoPoint p0, GeoPoint p1, double (&abc)[3]) noexcept {
    const Status overflow{Errc::geometry_out_of_range, 0};
    double slope = 0;
    if (fp_eq(p0.x, p1.x)) {
        slope = std::numeric_limits<double>::infinity();
    } else if (!fp_eq(p0.y, p1.y)) {
        double dy = 0;
        double dx = 0;
        if (!float8_mi(p0.y, p1.y, dy) || !float8_mi(p0.x, p1.x, dx) ||
            !float8_div(dy, dx, slope)) {
            return overflow;
        }
    }
    auto set = [&abc](double a, double b, double c) {
        abc[0] = a;
        abc[1] = b;
        abc[2] = c;
    };
    if (std::isinf(slope)) {
        set(-1.0, 0.0, p0.x);  // vertical: x = C
        return Status{};
    }
    if (slope == 0) {
        set(0.0, -1.0, p0.y);  // horizontal: y = C
        return Status{};
    }
    double product = 0;
    double c = 0;
    if (!float8_mul(slope, p0.x, product) || !float8_mi(p0.y, product, c)) {
        return overflow;
    }
    set(slope, -1.0, c == 0.0 ? 0.0 : c);  // no -0, as line_construct
    return Status{};
}

Status encode_point_text(ByteBuffer& out, Cursor& cursor) {
    GeoPoint point;
    if (!cursor.pair(point) || !cursor.at_end()) {
        return cursor.status;
    }
    encode_point(out, point);
    return Status{};
}

// line_in: `{A,B,C}` (line_decode) or two distinct points.
Status encode_line_text(ByteBuffer& out, Cursor& cursor) {
    double abc[3] = {0, 0, 0};
    cursor.skip_spaces();
    if (cursor.peek() == ldelim_l) {
        cursor.at++;
        if (!cursor.number(abc[0]) || !cursor.expect(delim) || !cursor.number(abc[1]) ||
            !cursor.expect(delim) || !cursor.number(abc[2]) || !cursor.expect(rdelim_l)) {
            return cursor.status;
        }
        cursor.skip_spaces();
        if (!cursor.at_end()) {
            return cursor.status;
        }
        if (fp_zero(abc[0]) && fp_zero(abc[1])) {
            return Status{Errc::line_invalid, 0};
        }
    } else {
        GeoPoint points[2];
        if (!decode_two(cursor, true, points)) {
            return cursor.status;
        }
        if (point_eq_point(points[0], points[1])) {
            return Status{Errc::line_invalid, 0};
        }
        if (Status status = line_through(points[0], points[1], abc); !status.ok()) {
            return status;
        }
    }
    out.put_u32(24);
    for (double coefficient : abc) {
        out.put_f64(coefficient);
    }
    return Status{};
}

Status encode_lseg_text(ByteBuffer& out, Cursor& cursor) {
    GeoPoint points[2];
    if (!decode_two(cursor, true, points)) {
        return cursor.status;
    }
    out.put_u32(32);
    put_point(out, points[0]);
    put_point(out, points[1]);
    return Status{};
}

// box_in: the first point read is `high`, then both coordinates are ordered (float8_lt, in
// which NaN is larger than any number).
Status encode_box_text(ByteBuffer& out, Cursor& cursor) {
    GeoPoint points[2];
    if (!decode_two(cursor, false, points)) {
        return cursor.status;
    }
    auto lt = [](double a, double b) { return !std::isnan(a) && (std::isnan(b) || a < b); };
    GeoPoint& high = points[0];
    GeoPoint& low = points[1];
    if (lt(high.x, low.x)) {
        std::swap(high.x, low.x);
    }
    if (lt(high.y, low.y)) {
        std::swap(high.y, low.y);
    }
    out.put_u32(32);
    put_point(out, high);
    put_point(out, low);
    return Status{};
}

// path_in and poly_in: the points go straight into `out`; the caller truncates on error.
Status encode_points_text(ByteBuffer& out, Cursor& cursor, bool is_path) {
    const std::size_t npts = pair_count(cursor.text);
    if (npts == 0) {
        return Status{Errc::geometry_syntax, 0};
    }
    const std::size_t data_bytes = (is_path ? 5 : 4) + 16 * npts;
    if (data_bytes > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    out.put_u32(static_cast<std::uint32_t>(data_bytes));
    std::size_t closed_at = out.size();
    if (is_path) {
        out.put_u8(1);
    }
    out.put_u32(static_cast<std::uint32_t>(npts));
    int depth = 0;
    if (is_path) {
        // path_in skips a single leading '(' (the only one in the text) itself.
        cursor.skip_spaces();
        if (cursor.peek() == ldelim && cursor.text.rfind(ldelim) == cursor.at) {
            cursor.at++;
            depth++;
        }
    }
    bool is_open = false;
    if (!path_decode(cursor, is_path, npts, is_open, [&](GeoPoint p) { put_point(out, p); })) {
        return cursor.status;
    }
    if (depth > 0) {
        if (!cursor.expect(rdelim)) {
            return cursor.status;
        }
        cursor.skip_spaces();
    }
    if (!cursor.at_end()) {
        return cursor.status;
    }
    if (is_path) {
        out.data()[closed_at] = is_open ? 0 : 1;
    }
    return Status{};
}

// circle_in: '<' or a doubled '(' opens, then a pair, an optional ',', the radius.
Status encode_circle_text(ByteBuffer& out, Cursor& cursor) {
    int depth = 0;
    cursor.skip_spaces();
    if (cursor.peek() == ldelim_c) {
        depth++;
        cursor.at++;
    } else if (cursor.peek() == ldelim) {
        std::size_t next = cursor.at + 1;
        while (next < cursor.text.size() && is_space(cursor.text[next])) {
            next++;
        }
        if (next < cursor.text.size() && cursor.text[next] == ldelim) {
            depth++;
            cursor.at = next;
        }
    }
    GeoPoint center;
    double radius = 0;
    if (!cursor.pair(center)) {
        return cursor.status;
    }
    if (cursor.peek() == delim) {
        cursor.at++;
    }
    const std::size_t radius_at = cursor.at;
    if (!cursor.number(radius)) {
        return cursor.status;
    }
    if (radius < 0.0) {
        return Status{Errc::geometry_syntax, offset(radius_at)};
    }
    while (depth > 0) {
        const char c = cursor.peek();
        if (c != rdelim && !(c == rdelim_c && depth == 1)) {
            return Status{Errc::geometry_syntax, offset(cursor.at)};
        }
        depth--;
        cursor.at++;
        cursor.skip_spaces();
    }
    if (!cursor.at_end()) {
        return cursor.status;
    }
    return encode_circle(out, center, radius);
}

}  // namespace

Status parse_geo_float8(std::string_view text, std::size_t& at, double& value) noexcept {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    const std::size_t start = at;
    std::size_t digits_at = at;
    bool negative = false;
    if (digits_at < text.size() && (text[digits_at] == '-' || text[digits_at] == '+')) {
        negative = text[digits_at] == '-';
        digits_at++;
    }
    if (digits_at == text.size() || text[digits_at] == '-' || text[digits_at] == '+') {
        return Status{Errc::geometry_syntax, offset(start)};
    }
    const char* const last = text.data() + text.size();
    double magnitude = 0;
    std::from_chars_result result =
        starts_hex_float(text, digits_at)
            ? std::from_chars(text.data() + digits_at + 2, last, magnitude, std::chars_format::hex)
            : std::from_chars(text.data() + digits_at, last, magnitude,
                              std::chars_format::general);
    if (result.ec == std::errc::result_out_of_range) {
        return Status{Errc::float_out_of_range, offset(start)};
    }
    if (result.ec != std::errc{}) {
        return Status{Errc::geometry_syntax, offset(start)};
    }
    at = static_cast<std::size_t>(result.ptr - text.data());
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    value = negative ? -magnitude : magnitude;
    return Status{};
}

std::size_t geometry_encoded_size_max(GeometryType type, std::string_view text) noexcept {
    switch (type) {
        case GeometryType::point: return point_encoded_size;
        case GeometryType::line: return line_encoded_size;
        case GeometryType::lseg: return lseg_encoded_size;
        case GeometryType::box: return box_encoded_size;
        case GeometryType::circle: return circle_encoded_size;
        case GeometryType::path: return 4 + 5 + 16 * pair_count(text);
        case GeometryType::polygon: return 4 + 4 + 16 * pair_count(text);
    }
    return 0;
}

Status encode_geometry_text(ByteBuffer& out, GeometryType type, std::string_view text) {
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return Status{Errc::geometry_syntax, offset(nul)};
    }
    const std::size_t start = out.size();
    Cursor cursor{text};
    Status status;
    switch (type) {
        case GeometryType::point: status = encode_point_text(out, cursor); break;
        case GeometryType::line: status = encode_line_text(out, cursor); break;
        case GeometryType::lseg: status = encode_lseg_text(out, cursor); break;
        case GeometryType::box: status = encode_box_text(out, cursor); break;
        case GeometryType::path: status = encode_points_text(out, cursor, true); break;
        case GeometryType::polygon: status = encode_points_text(out, cursor, false); break;
        case GeometryType::circle: status = encode_circle_text(out, cursor); break;
    }
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

void encode_point(ByteBuffer& out, GeoPoint point) {
    out.put_u32(16);
    put_point(out, point);
}

Status encode_circle(ByteBuffer& out, GeoPoint center, double radius) {
    if (radius < 0.0) {
        return Status{Errc::geometry_syntax, 0};
    }
    out.put_u32(24);
    put_point(out, center);
    out.put_f64(radius);
    return Status{};
}

const char* geometry_type_name(GeometryType type) noexcept {
    switch (type) {
        case GeometryType::point: return "point";
        case GeometryType::line: return "line";
        case GeometryType::lseg: return "lseg";
        case GeometryType::box: return "box";
        case GeometryType::path: return "path";
        case GeometryType::polygon: return "polygon";
        case GeometryType::circle: return "circle";
    }
    return "geometry";
}

}  // namespace pgingest
