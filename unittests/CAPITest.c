//===- CAPITest.c - mpt's C API used from C -------------------------*- C
//-*-===//
//
// Usage: mpt-capi-test examples/mlp.mlir. Parses the FP32 step, runs
// auto-mixed-precision (dtype=bf16) through mptRunAutoMixedPrecision and
// through a textual pipeline of MLIR's C API, and checks the rewritten IR
// and the report; then checks that bad options fail with an error.
//
//===----------------------------------------------------------------------===//

#include "mpt-c/Dialects.h"
#include "mpt-c/Passes.h"
#include "mpt-c/Pipelines.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/// A growing string that MlirStringCallbacks append to.
typedef struct {
  char *data;
  size_t size;
  int calls;
} Text;

static void append(MlirStringRef piece, void *userData) {
  Text *text = (Text *)userData;
  text->data = realloc(text->data, text->size + piece.length + 1);
  memcpy(text->data + text->size, piece.data, piece.length);
  text->size += piece.length;
  text->data[text->size] = '\0';
  ++text->calls;
}

static void clear(Text *text) {
  free(text->data);
  text->data = NULL;
  text->size = 0;
  text->calls = 0;
}

static char *readFile(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *data = malloc(size + 1);
  size_t got = fread(data, 1, size, file);
  fclose(file);
  data[got] = '\0';
  return data;
}

/// A diagnostic handler of the context: appends the message to a Text.
static MlirLogicalResult collectDiagnostic(MlirDiagnostic diagnostic,
                                           void *userData) {
  mlirDiagnosticPrint(diagnostic, append, userData);
  return mlirLogicalResultSuccess();
}

static MlirModule parse(MlirContext context, const char *source) {
  return mlirModuleCreateParse(context, mlirStringRefCreateFromCString(source));
}

static void print(MlirModule module, Text *text) {
  clear(text);
  mlirOperationPrint(mlirModuleGetOperation(module), append, text);
}

/// Counts the lines that hold all of `a`, `b` and `c`.
static int countLines(const char *text, const char *a, const char *b,
                      const char *c) {
  int count = 0;
  while (text && *text) {
    const char *end = strchr(text, '\n');
    size_t length = end ? (size_t)(end - text) : strlen(text);
    char *line = strndup(text, length);
    if (strstr(line, a) && strstr(line, b) && strstr(line, c))
      ++count;
    free(line);
    text = end ? end + 1 : NULL;
  }
  return count;
}

/// The number of matmuls of the FP32 input (5 in mlp.mlir).
static int fp32Matmuls = 0;

/// After the bf16 rewrite every matmul takes bf16 inputs and accumulates
/// into f32.
static void checkRewritten(const char *ir, const char *how) {
  int fp32 = countLines(ir, "linalg.matmul", "ins(", "xf32>, tensor");
  int low = countLines(ir, "linalg.matmul", "xbf16>, tensor<", "outs(");
  int lowAccF32 = countLines(ir, "linalg.matmul", "xbf16>) outs(", "xf32>)");
  CHECK(low == fp32Matmuls, "%s: %d bf16 matmuls, expected %d", how, low,
        fp32Matmuls);
  CHECK(lowAccF32 == fp32Matmuls, "%s: %d bf16 matmuls with f32 outs", how,
        lowAccF32);
  CHECK(fp32 == 0, "%s: %d matmuls left on f32 inputs", how, fp32);
}

static void checkAMP(MlirContext context, const char *source) {
  MlirModule module = parse(context, source);
  CHECK(!mlirModuleIsNull(module), "examples/mlp.mlir does not parse");
  if (mlirModuleIsNull(module))
    return;
  Text ir = {0}, report = {0};
  print(module, &ir);
  fp32Matmuls = countLines(ir.data, "linalg.matmul", "ins(", "xf32>, tensor");
  CHECK(fp32Matmuls > 0, "the input has no f32 matmul");

  MlirLogicalResult result = mptRunAutoMixedPrecision(
      module, mlirStringRefCreateFromCString("dtype=bf16"), append, append,
      &report);
  CHECK(mlirLogicalResultIsSuccess(result), "AMP failed: %s",
        report.data ? report.data : "");
  CHECK(mlirOperationVerify(mlirModuleGetOperation(module)),
        "the rewritten module does not verify");
  print(module, &ir);
  checkRewritten(ir.data, "mptRunAutoMixedPrecision");

  // The report: JSON with the dtype and a summary whose counts agree.
  CHECK(report.calls == 1, "the report came in %d calls", report.calls);
  CHECK(report.data && strstr(report.data, "\"dtype\": \"bf16\""),
        "report without dtype bf16: %s", report.data ? report.data : "");
  int low = -1, seen = -1;
  const char *summary = report.data ? strstr(report.data, "Converted ") : NULL;
  CHECK(summary &&
            sscanf(summary, "Converted %d/%d ops to bf16", &low, &seen) == 2,
        "report without summary: %s", report.data ? report.data : "");
  CHECK(low >= fp32Matmuls && seen > low, "summary counts %d/%d", low, seen);
  clear(&ir);
  clear(&report);
  mlirModuleDestroy(module);
}

/// The same rewrite as a textual pipeline through MLIR's own C API, which
/// mptRegisterPasses makes know `auto-mixed-precision`.
static void checkTextPipeline(MlirContext context, const char *source) {
  MlirModule module = parse(context, source);
  MlirPassManager pm = mlirPassManagerCreate(context);
  Text errors = {0}, ir = {0};
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      mlirStringRefCreateFromCString(
          "builtin.module(auto-mixed-precision{dtype=bf16})"),
      append, &errors);
  CHECK(mlirLogicalResultIsSuccess(parsed), "pipeline does not parse: %s",
        errors.data ? errors.data : "");
  if (mlirLogicalResultIsSuccess(parsed)) {
    MlirLogicalResult run =
        mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
    CHECK(mlirLogicalResultIsSuccess(run), "the textual pipeline failed");
    print(module, &ir);
    checkRewritten(ir.data, "mlirParsePassPipeline");
  }
  clear(&errors);
  clear(&ir);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
}

/// Bad options fail, say why through the error callback and leave the
/// module as it was when they are rejected before any pass runs.
static void checkErrors(MlirContext context, const char *source) {
  MlirModule module = parse(context, source);
  Text before = {0}, after = {0}, errors = {0};
  print(module, &before);

  MlirLogicalResult result = mptRunAutoMixedPrecision(
      module, mlirStringRefCreateFromCString("dtype=bf16 no-such-option=1"),
      append, append, &errors);
  CHECK(mlirLogicalResultIsFailure(result), "an unknown option succeeded");
  CHECK(errors.calls == 1 && strstr(errors.data, "no-such-option"),
        "error for an unknown option: %s", errors.data ? errors.data : "");
  print(module, &after);
  CHECK(strcmp(before.data, after.data) == 0,
        "a rejected option changed the module");

  // An unknown dtype is found by mpt-assign-precision: a diagnostic.
  clear(&errors);
  result = mptRunAutoMixedPrecision(module,
                                    mlirStringRefCreateFromCString("dtype=f8"),
                                    NULL, append, &errors);
  CHECK(mlirLogicalResultIsFailure(result), "dtype=f8 succeeded");
  CHECK(errors.data && strstr(errors.data, "error: ") &&
            strstr(errors.data, "unknown dtype 'f8'"),
        "error for dtype=f8: %s", errors.data ? errors.data : "");
  // Without an error callback the error goes to the context's handlers.
  clear(&errors);
  MlirDiagnosticHandlerID id = mlirContextAttachDiagnosticHandler(
      context, collectDiagnostic, &errors, NULL);
  result = mptRunAutoMixedPrecision(
      module, mlirStringRefCreateFromCString("no-such-option=1"), NULL, NULL,
      NULL);
  mlirContextDetachDiagnosticHandler(context, id);
  CHECK(mlirLogicalResultIsFailure(result), "an unknown option succeeded");
  CHECK(errors.calls > 0 && strstr(errors.data, "no-such-option"),
        "diagnostic for an unknown option: %s", errors.data ? errors.data : "");
  clear(&before);
  clear(&after);
  clear(&errors);
  mlirModuleDestroy(module);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mpt-capi-test examples/mlp.mlir\n");
    return 2;
  }
  char *source = readFile(argv[1]);
  if (!source) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  mptRegisterPasses();
  mptRegisterPasses(); // a second call does nothing

  MlirContext context = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__mpt__(), registry);
  mlirContextAppendDialectRegistry(context, registry);
  mlirDialectRegistryDestroy(registry);
  MlirDialect mpt = mlirContextGetOrLoadDialect(
      context, mlirStringRefCreateFromCString("mpt"));
  CHECK(!mlirDialectIsNull(mpt), "the mpt dialect does not load");

  checkAMP(context, source);
  checkTextPipeline(context, source);
  checkErrors(context, source);

  mlirContextDestroy(context);
  free(source);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("mpt C API: all checks passed\n");
  return failures ? 1 : 0;
}
