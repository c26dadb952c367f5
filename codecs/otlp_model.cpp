#include "codecs/otlp_model.hpp"

#include <utility>

#include "codecs/detail/otlp_frame.hpp"

namespace pgingest {

OtlpAttributeWalker::OtlpAttributeWalker()
    : _frames(std::make_unique<Frame[]>(otlp_value_depth_max)) {}

OtlpAttributeWalker::~OtlpAttributeWalker() = default;
OtlpAttributeWalker::OtlpAttributeWalker(OtlpAttributeWalker&&) noexcept = default;
OtlpAttributeWalker& OtlpAttributeWalker::operator=(OtlpAttributeWalker&&) noexcept = default;

OtlpError OtlpAttributeWalker::walk(const OtlpAttributes& list, OtlpValueSink& sink) {
    if (list.is_json) {
        return detail::walk_json_attributes(list, sink, _frames.get(), _bytes);
    }
    return detail::walk_proto_attributes(list, sink, _frames.get());
}

}  // namespace pgingest
