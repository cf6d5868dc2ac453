namespace Nabla.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public override void RandomFill(RandomKind kind, in Operand dst, Generator g, double a, double b)
    {
        var dtype = dst.DType;
        switch (kind)
        {
            case RandomKind.Uniform:
                if (dtype == ScalarType.Float32) g.FillUniform(Dense<float>(dst), a, b);
                else if (dtype == ScalarType.Float64) g.FillUniform(Dense<double>(dst), a, b);
                else throw new NotSupportedException($"\"check_uniform_bounds\" not implemented for '{dtype.CppScalarName()}'");
                break;
            case RandomKind.Normal:
                if (dtype == ScalarType.Float32) g.FillNormal(Dense<float>(dst), a, b);
                else if (dtype == ScalarType.Float64) g.FillNormal(Dense<double>(dst), a, b);
                else throw new NotSupportedException($"\"normal_kernel_cpu\" not implemented for '{dtype.CppScalarName()}'");
                break;
            case RandomKind.Randint:
                long low = (long)a, high = (long)b;
                switch (dtype)
                {
                    case ScalarType.Int64: g.FillRandint(Dense<long>(dst), low, high); break;
                    case ScalarType.Int32: g.FillRandint(Dense<int>(dst), low, high); break;
                    case ScalarType.Float32: g.FillRandint(Dense<float>(dst), low, high); break;
                    case ScalarType.Float64: g.FillRandint(Dense<double>(dst), low, high); break;
                    default: throw new NotSupportedException("randint is not implemented for bool");
                }
                break;
            case RandomKind.Bernoulli:
                if (dtype == ScalarType.Float32) g.FillBernoulli(Dense<float>(dst), a);
                else if (dtype == ScalarType.Float64) g.FillBernoulli(Dense<double>(dst), a);
                else throw new NotSupportedException("bernoulli_ is implemented for float tensors");
                break;
            case RandomKind.Randperm:
                g.Randperm(Dense<long>(dst));
                break;
        }
    }
}
