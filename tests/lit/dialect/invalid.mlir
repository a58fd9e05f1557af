// RUN: flashjit-opt %s -split-input-file -verify-diagnostics
// Every verifier error of the tile dialect, with its message.

tile.program @duplicate_param {
  %a = tile.param "window" : !tile.tile<[], i32>
  // expected-error @+1 {{'tile.param' op name 'window' is already declared by the 'tile.param'}}
  %b = tile.param "window" : !tile.tile<[], i32>
}

// -----

tile.program @param_and_buffer_share_names {
  %a = tile.param "slopes" : !tile.tile<[], f32>
  // expected-error @+1 {{'tile.buffer' op name 'slopes' is already declared by the 'tile.param'}}
  %b = tile.buffer "slopes" : !tile.buffer<[head], f32>
}

// -----

// expected-error @+1 {{'tile.program' op body must end with tile.store of O and the log-sum-exp}}
tile.program @no_store {
  %scale = tile.softmax_scale : !tile.tile<[], f32>
}

// -----

func.func @store_outside_program(%o: !tile.tile<[q, d], f32>, %lse: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.store' op expects parent op 'tile.program'}}
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

tile.program @store_wrong_o {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %s = tile.param "x" : !tile.tile<[], f32>
  %lse = tile.cast %s : !tile.tile<[], f32> -> !tile.tile<[], i32>
  // expected-error @+1 {{'tile.store' op output O must be !tile.tile<[q, d], f32>, got '!tile.tile<[q, d], input>'}}
  tile.store %q, %s : !tile.tile<[q, d], input>, !tile.tile<[], f32>
}

// -----

tile.program @store_wrong_lse {
  %s = tile.param "x" : !tile.tile<[], f32>
  %o = tile.param "y" : !tile.tile<[], f32>
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %sc = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %out = tile.dot %sc, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  // expected-error @+1 {{'tile.store' op log-sum-exp must be !tile.tile<[q], f32>, got '!tile.tile<[], f32>'}}
  tile.store %out, %s : !tile.tile<[q, d], f32>, !tile.tile<[], f32>
}

// -----

func.func @load_q_wrong() {
  // expected-error @+1 {{'tile.load_q' op result must be !tile.tile<[q, d], input>, got '!tile.tile<[kv, d], input>'}}
  %q = tile.load_q : !tile.tile<[kv, d], input>
  return
}

// -----

func.func @load_k_wrong() {
  // expected-error @+1 {{'tile.load_k' op result must be !tile.tile<[kv, d], input>, got '!tile.tile<[kv, d], f32>'}}
  %k = tile.load_k : !tile.tile<[kv, d], f32>
  return
}

// -----

func.func @load_v_wrong() {
  // expected-error @+1 {{'tile.load_v' op result must be !tile.tile<[kv, d], input>, got '!tile.tile<[q, d], input>'}}
  %v = tile.load_v : !tile.tile<[q, d], input>
  return
}

// -----

func.func @softmax_scale_not_scalar() {
  // expected-error @+1 {{'tile.softmax_scale' op result must be !tile.tile<[], f32>, got '!tile.tile<[q], f32>'}}
  %s = tile.softmax_scale : !tile.tile<[q], f32>
  return
}

// -----

func.func @index_wrong_axis() {
  // expected-error @+1 {{'tile.index' op result must be !tile.tile<[q], i32>, got '!tile.tile<[kv], i32>'}}
  %i = tile.index q : !tile.tile<[kv], i32>
  return
}

// -----

func.func @head_index_not_scalar() {
  // expected-error @+1 {{'tile.index' op result must be !tile.tile<[], i32>, got '!tile.tile<[q], i32>'}}
  %i = tile.index head : !tile.tile<[q], i32>
  return
}

// -----

func.func @unknown_index() {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'dim' [batch, head, q, kv]}}
  %i = tile.index d : !tile.tile<[], i32>
  return
}

// -----

func.func @extent_not_i32() {
  // expected-error @+1 {{'tile.extent' op result must be !tile.tile<[], i32>, got '!tile.tile<[], f32>'}}
  %n = tile.extent kv : !tile.tile<[], f32>
  return
}

// -----

func.func @param_not_identifier() {
  // expected-error @+1 {{'tile.param' op name 'soft cap' is not an identifier}}
  %p = tile.param "soft cap" : !tile.tile<[], f32>
  return
}

// -----

func.func @param_not_scalar() {
  // expected-error @+1 {{'tile.param' op parameter must be a scalar ([] axes), got '!tile.tile<[q], f32>'}}
  %p = tile.param "x" : !tile.tile<[q], f32>
  return
}

// -----

func.func @param_bool() {
  // expected-error @+1 {{'tile.param' op parameter must hold f32 or i32 elements, got i1}}
  %p = tile.param "flag" : !tile.tile<[], i1>
  return
}

// -----

func.func @buffer_not_identifier() {
  // expected-error @+1 {{'tile.buffer' op name '' is not an identifier}}
  %b = tile.buffer "" : !tile.buffer<[head], f32>
  return
}

// -----

func.func @constant_f16() {
  // expected-error @+1 {{'tile.constant' op value must be an f32, i32 or i1 number, got 1.000000e+00 : f16}}
  %c = tile.constant 1.0 : f16
  return
}

// -----

func.func @load_rank_mismatch(%b: !tile.buffer<[batch, token], i32>, %i: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.load' op buffer of rank 2 takes 2 indices, got 1}}
  %x = tile.load %b[%i] : !tile.buffer<[batch, token], i32>, !tile.tile<[q], i32> -> !tile.tile<[q], i32>
  return
}

// -----

func.func @load_float_index(%b: !tile.buffer<[?], f32>, %i: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.load' op index 0 must hold i32 elements, got f32}}
  %x = tile.load %b[%i] : !tile.buffer<[?], f32>, !tile.tile<[q], f32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @load_out_of_domain() {
  %slopes = tile.buffer "slopes" : !tile.buffer<[head], f32>
  %q = tile.index q : !tile.tile<[q], i32>
  // expected-error @+1 {{'tile.load' op index 0 is the 'q' index, which is out of the domain of buffer dimension 0 ('head')}}
  %x = tile.load %slopes[%q] : !tile.buffer<[head], f32>, !tile.tile<[q], i32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @load_token_by_head() {
  %doc = tile.buffer "doc" : !tile.buffer<[batch, token], i32>
  %b = tile.index batch : !tile.tile<[], i32>
  %h = tile.index head : !tile.tile<[], i32>
  // expected-error @+1 {{'tile.load' op index 1 is the 'head' index, which is out of the domain of buffer dimension 1 ('token')}}
  %x = tile.load %doc[%b, %h] : !tile.buffer<[batch, token], i32>, !tile.tile<[], i32>, !tile.tile<[], i32> -> !tile.tile<[], i32>
  return
}

// -----

func.func @load_constant_out_of_extent() {
  %table = tile.buffer "table" : !tile.buffer<[8], f32>
  %c = tile.constant 8 : i32
  // expected-error @+1 {{'tile.load' op constant index 0 (8) is out of the extent of buffer dimension 0 ('8')}}
  %x = tile.load %table[%c] : !tile.buffer<[8], f32>, !tile.tile<[], i32> -> !tile.tile<[], f32>
  return
}

// -----

func.func @load_wrong_result() {
  %slopes = tile.buffer "slopes" : !tile.buffer<[head], f32>
  %h = tile.index head : !tile.tile<[], i32>
  // expected-error @+1 {{'tile.load' op result must be !tile.tile<[], f32>, got '!tile.tile<[q], f32>'}}
  %x = tile.load %slopes[%h] : !tile.buffer<[head], f32>, !tile.tile<[], i32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @add_bools(%a: !tile.tile<[q], i1>) {
  // expected-error @+1 {{'tile.add' op lhs must hold f32 or i32 elements, got i1}}
  %x = tile.add %a, %a : !tile.tile<[q], i1>, !tile.tile<[q], i1> -> !tile.tile<[q], i1>
  return
}

// -----

func.func @mixed_element_types(%a: !tile.tile<[q], f32>, %b: !tile.tile<[kv], i32>) {
  // expected-error @+1 {{'tile.mul' op operands must have the same element type, got f32 and i32}}
  %x = tile.mul %a, %b : !tile.tile<[q], f32>, !tile.tile<[kv], i32> -> !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @shape_mismatch(%s: !tile.tile<[q, kv], f32>, %o: !tile.tile<[q, d], f32>) {
  // expected-error @+1 {{'tile.add' op result must be !tile.tile<[q, kv, d], f32>, got '!tile.tile<[q, kv], f32>'}}
  %x = tile.add %s, %o : !tile.tile<[q, kv], f32>, !tile.tile<[q, d], f32> -> !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @rem_float(%a: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.rem' op lhs must hold i32 elements, got f32}}
  %x = tile.rem %a, %a : !tile.tile<[q], f32>, !tile.tile<[q], f32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @and_ints(%a: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.and' op lhs must hold i1 elements, got i32}}
  %x = tile.and %a, %a : !tile.tile<[q], i32>, !tile.tile<[q], i32> -> !tile.tile<[q], i32>
  return
}

// -----

func.func @cmp_order_bools(%a: !tile.tile<[q], i1>) {
  // expected-error @+1 {{'tile.cmp' op lhs must hold f32 or i32 elements, got i1}}
  %x = tile.cmp lt, %a, %a : !tile.tile<[q], i1>, !tile.tile<[q], i1> -> !tile.tile<[q], i1>
  return
}

// -----

func.func @cmp_mixed(%a: !tile.tile<[q], i32>, %b: !tile.tile<[kv], f32>) {
  // expected-error @+1 {{'tile.cmp' op operands must have the same element type, got i32 and f32}}
  %x = tile.cmp lt, %a, %b : !tile.tile<[q], i32>, !tile.tile<[kv], f32> -> !tile.tile<[q, kv], i1>
  return
}

// -----

func.func @cmp_not_bool(%a: !tile.tile<[q], i32>, %b: !tile.tile<[kv], i32>) {
  // expected-error @+1 {{'tile.cmp' op result must be !tile.tile<[q, kv], i1>, got '!tile.tile<[q, kv], i32>'}}
  %x = tile.cmp lt, %a, %b : !tile.tile<[q], i32>, !tile.tile<[kv], i32> -> !tile.tile<[q, kv], i32>
  return
}

// -----

func.func @exp_int(%a: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.exp' op operand must hold f32 elements, got i32}}
  %x = tile.exp %a : !tile.tile<[q], i32>
  return
}

// -----

func.func @not_float(%a: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.not' op operand must hold i1 elements, got f32}}
  %x = tile.not %a : !tile.tile<[q], f32>
  return
}

// -----

func.func @cast_to_bool(%a: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.cast' op result must hold f32 or i32 elements, got i1}}
  %x = tile.cast %a : !tile.tile<[q], i32> -> !tile.tile<[q], i1>
  return
}

// -----

func.func @cast_input(%a: !tile.tile<[q, d], input>) {
  // expected-error @+1 {{'tile.cast' op operand must hold f32, i32 or i1 elements, got input}}
  %x = tile.cast %a : !tile.tile<[q, d], input> -> !tile.tile<[q, d], f32>
  return
}

// -----

func.func @cast_to_itself(%a: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.cast' op casts f32 to itself}}
  %x = tile.cast %a : !tile.tile<[q], f32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @cast_changes_axes(%a: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.cast' op result must be !tile.tile<[q], f32>, got '!tile.tile<[kv], f32>'}}
  %x = tile.cast %a : !tile.tile<[q], i32> -> !tile.tile<[kv], f32>
  return
}

// -----

func.func @select_float_cond(%c: !tile.tile<[q], f32>, %a: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.select' op condition must hold i1 elements, got f32}}
  %x = tile.select %c, %a, %a : !tile.tile<[q], f32>, !tile.tile<[q], f32>, !tile.tile<[q], f32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @select_mixed(%c: !tile.tile<[q], i1>, %a: !tile.tile<[q], f32>, %b: !tile.tile<[q], i32>) {
  // expected-error @+1 {{'tile.select' op both choices must have the same element type, got f32 and i32}}
  %x = tile.select %c, %a, %b : !tile.tile<[q], i1>, !tile.tile<[q], f32>, !tile.tile<[q], i32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @select_input(%c: !tile.tile<[q], i1>, %a: !tile.tile<[q, d], input>) {
  // expected-error @+1 {{'tile.select' op choices must hold f32, i32 or i1 elements, got input}}
  %x = tile.select %c, %a, %a : !tile.tile<[q], i1>, !tile.tile<[q, d], input>, !tile.tile<[q, d], input> -> !tile.tile<[q, d], input>
  return
}

// -----

func.func @select_result(%c: !tile.tile<[kv], i1>, %a: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.select' op result must be !tile.tile<[q, kv], f32>, got '!tile.tile<[q], f32>'}}
  %x = tile.select %c, %a, %a : !tile.tile<[kv], i1>, !tile.tile<[q], f32>, !tile.tile<[q], f32> -> !tile.tile<[q], f32>
  return
}

// -----

func.func @dot_vector(%a: !tile.tile<[q], f32>, %k: !tile.tile<[kv, d], input>) {
  // expected-error @+1 {{'tile.dot' op lhs must vary along two axes, got [q]}}
  %x = tile.dot %a, %k transpose_rhs : !tile.tile<[q], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @dot_ints(%a: !tile.tile<[q, d], i32>, %k: !tile.tile<[kv, d], input>) {
  // expected-error @+1 {{'tile.dot' op lhs must hold input or f32 elements, got i32}}
  %x = tile.dot %a, %k transpose_rhs : !tile.tile<[q, d], i32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @dot_not_transposed(%q: !tile.tile<[q, d], input>, %k: !tile.tile<[kv, d], input>) {
  // expected-error @+1 {{'tile.dot' op contracts lhs axis 'd' with rhs axis 'kv'; they must be the same axis}}
  %x = tile.dot %q, %k : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  return
}

// -----

func.func @dot_result_order(%k: !tile.tile<[kv, d], input>, %q: !tile.tile<[q, d], input>) {
  // expected-error @+1 {{'tile.dot' op result axes [kv, q] are not distinct and in the order q, kv, d}}
  %x = tile.dot %k, %q transpose_rhs : !tile.tile<[kv, d], input>, !tile.tile<[q, d], input> -> !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @dot_result_type(%q: !tile.tile<[q, d], input>, %k: !tile.tile<[kv, d], input>) {
  // expected-error @+1 {{'tile.dot' op result must be !tile.tile<[q, kv], f32>, got '!tile.tile<[q, kv], input>'}}
  %x = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], input>
  return
}

// -----

func.func @mask_not_scores(%s: !tile.tile<[q, d], f32>, %m: !tile.tile<[q], i1>) {
  // expected-error @+1 {{'tile.mask' op masked operand must be a score tile !tile.tile<[q, kv], f32>, got '!tile.tile<[q, d], f32>'}}
  %x = tile.mask %s, %m : !tile.tile<[q, d], f32>, !tile.tile<[q], i1>
  return
}

// -----

func.func @mask_not_boolean(%s: !tile.tile<[q, kv], f32>, %m: !tile.tile<[q, kv], i32>) {
  // expected-error @+1 {{'tile.mask' op mask must be a boolean (i1) tile, got i32 elements}}
  %x = tile.mask %s, %m : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i32>
  return
}

// -----

func.func @mask_over_head_dim(%s: !tile.tile<[q, kv], f32>, %m: !tile.tile<[kv, d], i1>) {
  // expected-error @+1 {{'tile.mask' op mask varies along [kv, d], outside the score axes [q, kv]}}
  %x = tile.mask %s, %m : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], i1>
  return
}

// -----

tile.program @mask_on_scores {
  %q = tile.load_q : !tile.tile<[q, d], input>
  %k = tile.load_k : !tile.tile<[kv, d], input>
  %s = tile.dot %q, %k transpose_rhs : !tile.tile<[q, d], input>, !tile.tile<[kv, d], input> -> !tile.tile<[q, kv], f32>
  %zero = tile.constant 0.0 : f32
  %positive = tile.cmp gt, %s, %zero : !tile.tile<[q, kv], f32>, !tile.tile<[], f32> -> !tile.tile<[q, kv], i1>
  // expected-error @+1 {{'tile.mask' op mask depends on the scores through 'tile.dot'; a mask may use only indices, extents, parameters, buffers and constants}}
  %m = tile.mask %s, %positive : !tile.tile<[q, kv], f32>, !tile.tile<[q, kv], i1>
  %p, %lse = tile.softmax %m : !tile.tile<[q, kv], f32>
  %v = tile.load_v : !tile.tile<[kv, d], input>
  %o = tile.dot %p, %v : !tile.tile<[q, kv], f32>, !tile.tile<[kv, d], input> -> !tile.tile<[q, d], f32>
  tile.store %o, %lse : !tile.tile<[q, d], f32>, !tile.tile<[q], f32>
}

// -----

func.func @softmax_of_vector(%s: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.softmax' op operand must be a score tile !tile.tile<[q, kv], f32>, got '!tile.tile<[q], f32>'}}
  %p, %lse = tile.softmax %s : !tile.tile<[q], f32>
  return
}

// -----

func.func @dropout_rate_one(%p: !tile.tile<[q, kv], f32>) {
  // expected-error @+1 {{'tile.dropout' op rate must be in [0, 1), got 1}}
  %x = tile.dropout %p rate = 1.0 : !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @dropout_rate_negative(%p: !tile.tile<[q, kv], f32>) {
  // expected-error @+1 {{'tile.dropout' op rate must be in [0, 1), got -0.25}}
  %x = tile.dropout %p rate = -0.25 : !tile.tile<[q, kv], f32>
  return
}

// -----

func.func @dropout_not_scores(%p: !tile.tile<[q], f32>) {
  // expected-error @+1 {{'tile.dropout' op operand must be a score tile !tile.tile<[q, kv], f32>, got '!tile.tile<[q], f32>'}}
  %x = tile.dropout %p rate = 0.5 : !tile.tile<[q], f32>
  return
}
