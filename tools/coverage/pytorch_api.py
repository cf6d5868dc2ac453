"""Lists PyTorch's public API by namespace, for the coverage table (docs/coverage.md).

Run once with Debian's PyTorch 1.13 (/usr/bin/python3 tools/coverage/pytorch_api.py > tools/coverage/pytorch-1.13-api.txt);
the output is committed. Each line is "<namespace>\t<name>\t<scope>" where scope is "core" for what Nabla aims to have,
or the reason an entry is out of scope (sparse, quantized, complex, cuda, jit, distributed-only, internal helpers).
"""
import inspect
import re

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.optim.lr_scheduler as lr_scheduler
import torch.utils.data as data
import torch.linalg as linalg
import torch.nn.init as init
import torch.autograd as autograd
import torch.special as special
import torch.fft as fft

OUT_OF_SCOPE = [
    (r"sparse|_csr|_csc|_bsr|_bsc|coalesce|to_dense|to_mkldnn|mkldnn", "sparse/mkldnn layouts"),
    (r"quantiz|qint|quint|q_scale|q_zero|q_per_channel|int_repr|fake_quant|fbgemm|dequantize", "quantization"),
    (r"complex|real$|imag$|conj|view_as_real|view_as_complex|polar|angle|is_conj|resolve_neg|resolve_conj|is_neg$", "complex numbers"),
    (r"cuda|cudnn|miopen|pin_memory|is_pinned|mps|vulkan|xpu|hip|ipu|share_memory|is_shared|record_stream|nnpack", "device-specific"),
    (r"^(jit|compile|script|trace|export|onnx|fx|package|hub|backends|overrides|testing|library|profiler|ops|classes|return_types|storage|types|version|torch|functional|serialization|random|multiprocessing|distributed|distributions|futures|special|fft|linalg|nn|optim|autograd|utils|amp|ao|quantization|nested|masked|cpu|contrib|_C)$", "submodule"),
    (r"^(is_storage|set_default_tensor_type|typename|is_tensor|get_file_path|prepare_multiprocessing_environment|wait|fork|import_ir_module|import_ir_module_from_buffer|merge_type_from_type_comment|parse_ir|parse_schema|parse_type_comment|unify_type_list|vitals_enabled|set_vital|read_vitals|init_num_threads|has_.*|is_vulkan_available|set_warn_always|is_warn_always_enabled|set_flush_denormal|use_deterministic_algorithms|are_deterministic_algorithms_enabled|is_deterministic_algorithms_warn_only_enabled|set_deterministic_debug_mode|get_deterministic_debug_mode|set_float32_matmul_precision|get_float32_matmul_precision|is_inference_mode_enabled|is_anomaly_enabled|is_anomaly_check_nan_enabled|is_grad_enabled|is_autocast_.*|set_autocast_.*|get_autocast_.*|clear_autocast_cache|autocast_.*|candidate|layout|memory_format|qscheme|dtype|device|finfo|iinfo|Size|Generator|Stream|Event|Tag|ExcludeDispatchKeyGuard|DisableTorchFunction|.*Storage|.*Tensor|ScriptModule|ScriptFunction|ScriptClass|ScriptObject|ScriptMethod|ArgumentSpec|.*Type|.*Future|.*Graph|.*Node|.*Block|.*Value|.*Scope|.*Guard|.*Manager|.*Interface|.*Error|.*Warning|.*Method|.*Function|.*Object|.*Config|.*Engine|.*Context|.*Info|.*Iterator|.*Enum|.*Spec|.*Schema|.*Argument|ParameterDict|FileCheck|set_anomaly_enabled|AggregationType|AliasDb|BenchmarkConfig|BenchmarkExecutionStats|BufferDict|CONV_BN_FUSION|CallStack|Capsule|CompilationUnit|ConcreteModuleType.*|DeepCopyMemoTable|DeserializationStorageContext|DispatchKey.*|ErrorReport|ExecutionPlan|FUSE_ADD_RELU|FatalError|Gradient|HOIST_CONV_PACKED_PARAMS|INSERT_FOLD_PREPACK_OPS|IODescriptor|InferredType|JITException|LiteScriptModule|LockingLogger|LoggerBase|MobileOptimizerType|ModuleDict|NoopLogger|PyTorchFileReader|PyTorchFileWriter|REMOVE_DROPOUT|SerializationStorageContext|StaticModule|ThroughputBenchmark|UseCopy|dispatch_.*|lobpcg|lstsq|set_default_dtype|get_default_dtype|chain_matmul|matrix_rank|solve|cholesky_solve|cholesky_inverse|symeig|eig|lu|lu_solve|lu_unpack|qr|svd_lowrank|pca_lowrank|triangular_solve|ger|matrix_power|orgqr|ormqr|geqrf|pinverse|det|slogdet|logdet|inverse)$", "internal, legacy or deprecated alias"),
    (r"^(fbgemm|batch_norm_|cudnn_|miopen_|mkldnn_|native_|rrelu_with_noise|thnn_|slow_conv|conv_tbc|embedding_renorm_|fused_moving_avg|choose_qparams|constant_pad_nd|convolution|affine_grid_generator|alpha_dropout_|feature_dropout_|feature_alpha_dropout_|dropout_|batch_norm_elemt|batch_norm_gather_stats|batch_norm_backward|batch_norm_update_stats|batch_norm_stats|segment_reduce|sym_.*|unsafe_.*|from_file|gru_cell|lstm_cell|rnn_relu_cell|rnn_tanh_cell|rnn_relu|rnn_tanh|quantized_.*|sspaddmm|saddmm|smm|hspmm|spmm|ctc_loss|detach_copy|.*_copy|hardshrink|result_type|can_cast|promote_types|is_same_size|is_nonzero|is_distributed|is_floating_point|is_complex|is_signed|numel|cpp|obj|sym_int|sym_float|sym_not)$", "internal, legacy or deprecated alias"),
]


def scope(ns, name):
    for pattern, reason in OUT_OF_SCOPE:
        if (reason.startswith("internal") or reason == "submodule") and ns not in ("torch", "Tensor"):
            continue
        if re.search(pattern, name):
            # plain tensor methods like .numel() or .is_floating_point() are core on Tensor
            if ns == "Tensor" and reason.startswith("internal") and name in ("numel", "is_floating_point", "is_complex", "is_signed", "det", "slogdet", "logdet", "inverse", "matrix_power", "qr", "lu", "solve", "pinverse", "is_same_size", "is_nonzero"):
                return "core"
            return reason
    return "core"


def public(names):
    return sorted(n for n in set(names) if not n.startswith("_"))


rows = []


def add(ns, names):
    for n in public(names):
        rows.append((ns, n, scope(ns, n)))


def callables(mod):
    out = []
    for n in dir(mod):
        if n.startswith("_"):
            continue
        v = getattr(mod, n)
        if inspect.ismodule(v):
            continue
        if callable(v):
            out.append(n)
    return out


# torch.*: functions only (classes such as dtypes, Size, Generator are listed as internal above)
add("torch", [n for n in callables(torch) if not inspect.isclass(getattr(torch, n)) or n in ("no_grad", "enable_grad", "inference_mode", "set_grad_enabled")])
# Tensor methods and properties
add("Tensor", [n for n in dir(torch.Tensor)])
# nn modules (classes) and nn.functional
add("nn", [n for n in dir(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)])
add("nn.functional", [n for n in callables(F) if not inspect.isclass(getattr(F, n))])
add("nn.init", [n for n in callables(init) if not inspect.isclass(getattr(init, n))])
add("optim", [n for n in dir(optim) if inspect.isclass(getattr(optim, n)) and issubclass(getattr(optim, n), optim.Optimizer) and n != "Optimizer"])
add("optim.lr_scheduler", [n for n in dir(lr_scheduler) if inspect.isclass(getattr(lr_scheduler, n)) and n.endswith(("LR", "Plateau", "Restarts")) and n != "_LRScheduler"])
add("utils.data", [n for n in ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "Subset", "random_split", "DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate", "get_worker_info"] if hasattr(data, n)])
add("linalg", [n for n in callables(linalg)])
add("special", [n for n in callables(special)])
add("fft", [n for n in callables(fft)])
add("autograd", ["backward", "grad", "Function", "gradcheck", "gradgradcheck", "set_detect_anomaly", "detect_anomaly", "set_grad_enabled", "no_grad", "enable_grad", "inference_mode"])
add("autograd.functional", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
add("autograd.forward_ad", ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level"])

print(f"# PyTorch {torch.__version__} public API, by namespace (tools/coverage/pytorch_api.py)")
for ns, n, s in rows:
    print(f"{ns}\t{n}\t{s}")
