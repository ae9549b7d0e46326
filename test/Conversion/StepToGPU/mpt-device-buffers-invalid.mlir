// RUN: mpt-opt %s --mpt-device-buffers --split-input-file -verify-diagnostics

func.func @upstream_dealloc() {
  %a = memref.alloc() : memref<4xf32>
  // expected-error @below {{'memref.dealloc' op frees a buffer; mpt-device-buffers frees the step's buffers itself}}
  memref.dealloc %a : memref<4xf32>
  return
}

// -----

func.func @alloc_in_region(%c: i1) {
  scf.if %c {
    // expected-error @below {{'memref.alloc' op allocates inside a region; on the GPU every buffer of the step is allocated in the function's body}}
    %a = memref.alloc() : memref<4xf32>
  }
  return
}

// -----

// expected-error @below {{'func.func' op has more than one block; mpt-device-buffers needs a step without host control flow}}
func.func @blocks(%c: i1) {
  cf.cond_br %c, ^a, ^b
^a:
  return
^b:
  return
}
