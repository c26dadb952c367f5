#pragma once

// Array literals as array_in reads them (utils/adt/arrayfuncs.c array_in, ArrayCount,
// ReadArrayStr), taken apart into element texts and dimensions; each element is then the
// element type's text input (issue 10: '{{1,2},{3,4}}' into an int4[] column).
//
//   '{' element (',' element)* '}'  where an element is a nested '{...}', a quoted "..." string
//   (backslash escapes any character), or unquoted characters up to ',' or '}' (backslash
//   escapes; surrounding whitespace dropped; NULL in any case, unquoted, is a NULL element).
//   '{}' is the empty array. Sub-arrays of one level must all have the same length, and
//   elements sit only at the deepest level (22P02 "Multidimensional arrays must have
//   sub-arrays with matching dimensions").
//
// Not accepted (refused with `Errc::invalid_array_text`, never misread): the explicit bounds
// decoration '[1:2]={...}', empty sub-arrays '{{},{}}', and delimiters other than ',' (only
// box uses ';').

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/array.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// An array literal taken apart by `parse_array_text`.
struct ArrayText {
    /// One element: `length` bytes of `chars` from `offset`, or NULL when `length` is -1.
    struct Element {
        std::uint32_t offset = 0;
        std::int32_t length = -1;
    };
    std::string chars;              ///< the element texts back to back, escapes removed
    std::vector<Element> elements;  ///< row-major
    std::uint32_t dims[array_dimensions_max] = {};  ///< length of each dimension, outermost first
    std::size_t rank = 0;                           ///< 0 for '{}'

    /// The text of element `index` (not NULL).
    [[nodiscard]] std::string_view text(std::size_t index) const noexcept {
        return std::string_view(chars).substr(elements[index].offset,
                                              static_cast<std::size_t>(elements[index].length));
    }
};

/// Parses an array literal. Errors, at the byte where the literal stops making sense:
/// `Errc::invalid_array_text` (syntax), `Errc::array_ragged` (sub-arrays of different lengths,
/// or elements at different depths), `Errc::array_too_many_dims` (over 6 levels). Allocates
/// only when `out`'s strings grow; pure, any thread.
[[nodiscard]] Status parse_array_text(std::string_view text, ArrayText& out);

}  // namespace pgingest
