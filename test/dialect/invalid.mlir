// The verifiers reject ill-shaped graphs with a message that says why.
// RUN: qwenc-opt %s -split-input-file -verify-diagnostics

func.func @linear_in_features(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %w = qwen.weight "w" : tensor<4x6xf32>
  // expected-error @+1 {{input has 8 columns but the weight has 6 in_features}}
  %y = qwen.linear %x, %w : tensor<?x8xf32>, tensor<4x6xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @linear_out_features(%x: tensor<?x8xf32>) -> tensor<?x5xf32> {
  %w = qwen.weight "w" : tensor<4x8xf32>
  // expected-error @+1 {{result has 5 columns but the weight has 4 out_features}}
  %y = qwen.linear %x, %w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}

// -----

func.func @linear_bias(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %w = qwen.weight "w" : tensor<4x8xf32>
  %b = qwen.weight "b" : tensor<3xf32>
  // expected-error @+1 {{bias has 3 elements but the weight has 4 out_features}}
  %y = qwen.linear %x, %w, %b : tensor<?x8xf32>, tensor<4x8xf32>, tensor<3xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @norm_weight(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = qwen.weight "w" : tensor<7xf32>
  // expected-error @+1 {{weight has 7 elements but the input has 8 columns}}
  %y = qwen.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<?x8xf32>, tensor<7xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @norm_eps(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %w = qwen.weight "w" : tensor<8xf32>
  // expected-error @+1 {{eps must be positive}}
  %y = qwen.rms_norm %x, %w {eps = 0.0 : f64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @rope_odd_head(%x: tensor<?x9xf32>, %p: tensor<?xi32>) -> tensor<?x9xf32> {
  // expected-error @+1 {{head_dim must be positive and even, got 3}}
  %y = qwen.rope %x, %p {head_dim = 3 : i64, theta = 1.0e6 : f64} : tensor<?x9xf32>, tensor<?xi32> -> tensor<?x9xf32>
  return %y : tensor<?x9xf32>
}

// -----

func.func @rope_partial_head(%x: tensor<?x10xf32>, %p: tensor<?xi32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{input columns (10) are not a whole number of heads of 4}}
  %y = qwen.rope %x, %p {head_dim = 4 : i64, theta = 1.0e6 : f64} : tensor<?x10xf32>, tensor<?xi32> -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}

// -----

func.func @attention_groups(%q: tensor<?x12xf32>, %k: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x12xf32> {
  // expected-error @+1 {{num_heads (3) is not a multiple of num_kv_heads (2)}}
  %y = qwen.attention %q, %k, %k, %p {layer = 0 : i64, num_heads = 3 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64} : tensor<?x12xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32> -> tensor<?x12xf32>
  return %y : tensor<?x12xf32>
}

// -----

func.func @attention_query_width(%q: tensor<?x12xf32>, %k: tensor<?x4xf32>, %p: tensor<?xi32>) -> tensor<?x12xf32> {
  // expected-error @+1 {{query has 12 columns, expected num_heads * head_dim = 8}}
  %y = qwen.attention %q, %k, %k, %p {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64} : tensor<?x12xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32> -> tensor<?x12xf32>
  return %y : tensor<?x12xf32>
}

// -----

func.func @attention_kv_width(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{key and value need num_kv_heads * head_dim = 4 columns}}
  %y = qwen.attention %q, %k, %k, %p {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @embedding_width(%ids: tensor<?xi32>) -> tensor<?x4xf32> {
  %t = qwen.weight "t" : tensor<32x8xf32>
  // expected-error @+1 {{result has 4 columns but the table rows have 8}}
  %x = qwen.embedding %ids, %t : tensor<?xi32>, tensor<32x8xf32> -> tensor<?x4xf32>
  return %x : tensor<?x4xf32>
}

// -----

func.func @logits_vocab(%x: tensor<?x8xf32>) -> tensor<?x30xf32> {
  %t = qwen.weight "t" : tensor<32x8xf32>
  // expected-error @+1 {{result has 30 columns but the weight has 32 out_features}}
  %l = qwen.logits %x, %t : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x30xf32>
  return %l : tensor<?x30xf32>
}

// -----

func.func @weight_name() -> tensor<8xf32> {
  // expected-error @+1 {{needs a non-empty checkpoint tensor name}}
  %w = qwen.weight "" : tensor<8xf32>
  return %w : tensor<8xf32>
}

// -----

func.func @activation_dtype(%x: tensor<?x8xf16>) -> tensor<?x8xf16> {
  // expected-error @+1 {{must be 2D tensor of 32-bit float values}}
  %y = qwen.add %x, %x : tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}

// -----

func.func @rope_scaling(%x: tensor<?x128xf32>, %p: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{scaling must have type = "yarn"}}
  %0 = qwen.rope %x, %p {head_dim = 64 : i64, theta = 1.0e6 : f64, scaling = {type = "linear", factor = 2.0 : f64}} : tensor<?x128xf32>, tensor<?xi32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @rope_yarn_incomplete(%x: tensor<?x128xf32>, %p: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{yarn scaling needs factor >= 1}}
  %0 = qwen.rope %x, %p {head_dim = 64 : i64, theta = 1.0e6 : f64, scaling = {type = "yarn", factor = 4.0 : f64}} : tensor<?x128xf32>, tensor<?xi32> -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}
