using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Nabla;

/// <summary>
/// A pseudo-random number generator that reproduces PyTorch's CPU generator bit for bit: a 32-bit Mersenne
/// Twister (mt19937) seeded from the low 32 bits of a 64-bit seed, plus PyTorch's conversions from raw draws to
/// uniform, normal, integer, permutation and Bernoulli samples. With the same seed, <c>torch.rand</c>,
/// <c>torch.randn</c>, <c>torch.randint</c>, <c>torch.randperm</c> and <c>bernoulli_</c> produce the same values as
/// PyTorch on an x86-64 CPU.
/// </summary>
/// <remarks>
/// All draws take a lock, so one generator may be shared between threads (the order of draws between threads is
/// of course unspecified). <see cref="Default"/> is the global generator that <c>torch.manual_seed</c> reseeds.
/// </remarks>
public sealed class Generator
{
    /// <summary>PyTorch's default CPU seed (<c>default_rng_seed_val</c>).</summary>
    internal const ulong DefaultSeed = 67280421310721UL;

    private const int StateN = 624;
    private const int StateM = 397;
    private const uint MatrixA = 0x9908b0dfU;
    private const uint UpperMask = 0x80000000U;
    private const uint LowerMask = 0x7fffffffU;

    private readonly Lock _lock = new();
    private readonly uint[] _state = new uint[StateN];
    private int _left;
    private int _next;
    private ulong _seed;

    // PyTorch's next_double_normal_sample: the second Box-Muller value of the scalar normal path.
    private bool _hasNextDoubleNormal;
    private double _nextDoubleNormal;

    /// <summary>Creates a generator seeded with <paramref name="seed"/> (PyTorch's default seed when omitted).</summary>
    /// <param name="seed">The 64-bit seed; as in PyTorch only its low 32 bits reach the Mersenne Twister state.</param>
    public Generator(ulong seed = DefaultSeed)
    {
        Reseed(seed);
    }

    /// <summary>The global generator used by <c>torch.manual_seed</c> and by random factories given no generator.</summary>
    public static Generator Default { get; } = new Generator();

    /// <summary>Reseeds the generator (as <c>torch.Generator.manual_seed</c>) and clears the cached normal sample.</summary>
    /// <param name="seed">The new seed.</param>
    /// <returns>This generator, for chaining.</returns>
    public Generator manual_seed(ulong seed)
    {
        lock (_lock)
            Reseed(seed);
        return this;
    }

    /// <summary>The seed this generator was last seeded with.</summary>
    /// <returns>The 64-bit seed given to the constructor, <see cref="manual_seed"/> or <see cref="seed"/>.</returns>
    public ulong initial_seed()
    {
        lock (_lock)
            return _seed;
    }

    /// <summary>
    /// Reseeds the generator from a non-deterministic source and returns the new seed. As in PyTorch the seed is
    /// limited to 53 bits, so it survives a round trip through a double.
    /// </summary>
    /// <returns>The new seed.</returns>
    public ulong seed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        ulong s = BitConverter.ToUInt64(bytes) & 0x1FFFFFFFFFFFFFUL;
        lock (_lock)
            Reseed(s);
        return s;
    }

    // ------------------------------------------------------------------ engine

    private void Reseed(ulong seed)
    {
        _seed = seed;
        _hasNextDoubleNormal = false;
        _nextDoubleNormal = 0;
        uint[] st = _state;
        st[0] = (uint)seed;
        for (int j = 1; j < StateN; j++)
            st[j] = unchecked(1812433253U * (st[j - 1] ^ (st[j - 1] >> 30)) + (uint)j);
        _left = 1;
        _next = 0;
    }

    private void NextState()
    {
        uint[] st = _state;
        int k = 0;
        for (; k < StateN - StateM; k++)
            st[k] = st[k + StateM] ^ Twist(st[k], st[k + 1]);
        for (; k < StateN - 1; k++)
            st[k] = st[k + StateM - StateN] ^ Twist(st[k], st[k + 1]);
        st[StateN - 1] = st[StateM - 1] ^ Twist(st[StateN - 1], st[0]);
        _left = StateN;
        _next = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Twist(uint u, uint v)
        => (((u & UpperMask) | (v & LowerMask)) >> 1) ^ ((v & 1U) != 0 ? MatrixA : 0U);

    /// <summary>One 32-bit draw (PyTorch's <c>CPUGeneratorImpl::random</c>). Caller holds the lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Draw32()
    {
        if (--_left == 0)
            NextState();
        uint y = _state[_next++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680U;
        y ^= (y << 15) & 0xefc60000U;
        y ^= y >> 18;
        return y;
    }

    /// <summary>One 64-bit draw (PyTorch's <c>random64</c>): the first 32-bit draw is the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Draw64()
    {
        ulong hi = Draw32();
        ulong lo = Draw32();
        return (hi << 32) | lo;
    }

    /// <summary>A raw 32-bit draw, as <c>CPUGeneratorImpl::random()</c>.</summary>
    internal uint NextUInt32()
    {
        lock (_lock)
            return Draw32();
    }

    /// <summary>A raw 64-bit draw, as <c>CPUGeneratorImpl::random64()</c>.</summary>
    internal ulong NextUInt64()
    {
        lock (_lock)
            return Draw64();
    }

    // ------------------------------------------------------------- conversions

    private const float FloatDivisor = 1.0f / (1 << 24);
    private const double DoubleDivisor = 1.0 / (1UL << 53);

    /// <summary>A float in [0, 1) from the low 24 bits of a 32-bit draw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float UniformFloat01() => (Draw32() & 0xFFFFFFU) * FloatDivisor;

    /// <summary>A double in [0, 1) from the low 53 bits of a 64-bit draw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double UniformDouble01() => (Draw64() & 0x1FFFFFFFFFFFFFUL) * DoubleDivisor;

    // PyTorch's x86-64 kernels are built by GCC with FMA available and floating-point contraction on, so each
    // `a * b + c` in them is a fused multiply-add (checked against PyTorch for uniform_(from, to) in both dtypes,
    // normal_(mean, std) on both paths, and inside avx_mathfun's log and sincos).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MulAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double MulAdd(double a, double b, double c) => Math.FusedMultiplyAdd(a, b, c);

    // ------------------------------------------------------------------ uniform

    /// <summary>Fills <paramref name="dst"/> with uniform samples in [from, to), exactly as PyTorch's float32 <c>uniform_</c>.</summary>
    internal void FillUniform(Span<float> dst, double from, double to)
    {
        float f = (float)from, t = (float)to;
        float range = t - f;
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = MulAdd(UniformFloat01(), range, f);
        }
    }

    /// <summary>Fills <paramref name="dst"/> with uniform samples in [from, to), exactly as PyTorch's float64 <c>uniform_</c>.</summary>
    internal void FillUniform(Span<double> dst, double from, double to)
    {
        double range = to - from;
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = MulAdd(UniformDouble01(), range, from);
        }
    }

    // ------------------------------------------------------------------- normal

    /// <summary>
    /// PyTorch's scalar <c>normal_distribution&lt;double&gt;</c>: Box-Muller on two double uniforms, the sine
    /// half cached for the next call. Caller holds the lock.
    /// </summary>
    private double NormalScalar(double mean, double std)
    {
        double ret;
        if (_hasNextDoubleNormal)
        {
            _hasNextDoubleNormal = false;
            ret = _nextDoubleNormal;
            return MulAdd(ret, std, mean);
        }
        double u1 = UniformDouble01();
        double u2 = UniformDouble01();
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        _nextDoubleNormal = r * Math.Sin(theta);
        _hasNextDoubleNormal = true;
        ret = r * Math.Cos(theta);
        return MulAdd(ret, std, mean);
    }

    /// <summary>
    /// Fills <paramref name="dst"/> with normal samples, exactly as PyTorch's float32 <c>normal_</c> /
    /// <c>torch.randn</c> on an x86-64 CPU with AVX2: below 16 elements the scalar Box-Muller path (with its cached
    /// second value), from 16 on the vectorised <c>normal_fill_AVX2</c> path.
    /// </summary>
    internal void FillNormal(Span<float> dst, double mean, double std)
    {
        CheckStd(std);
        lock (_lock)
        {
            int n = dst.Length;
            if (n < 16)
            {
                for (int i = 0; i < n; i++)
                    dst[i] = (float)NormalScalar(mean, std);
                return;
            }
            float m = (float)mean, s = (float)std;
            for (int i = 0; i < n; i++)
                dst[i] = UniformFloat01();
            for (int i = 0; i + 16 <= n; i += 16)
                NormalFill16(dst.Slice(i, 16), m, s);
            if (n % 16 != 0)
            {
                // Like PyTorch: redraw the last 16 uniforms and transform them again.
                Span<float> tail = dst.Slice(n - 16, 16);
                for (int i = 0; i < 16; i++)
                    tail[i] = UniformFloat01();
                NormalFill16(tail, m, s);
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="dst"/> with normal samples, exactly as PyTorch's float64 <c>normal_</c> /
    /// <c>torch.randn</c>: the scalar path below 16 elements, <c>normal_fill</c> from 16 on.
    /// </summary>
    internal void FillNormal(Span<double> dst, double mean, double std)
    {
        CheckStd(std);
        lock (_lock)
        {
            int n = dst.Length;
            if (n < 16)
            {
                for (int i = 0; i < n; i++)
                    dst[i] = NormalScalar(mean, std);
                return;
            }
            for (int i = 0; i < n; i++)
                dst[i] = UniformDouble01();
            for (int i = 0; i + 16 <= n; i += 16)
                NormalFill16(dst.Slice(i, 16), mean, std);
            if (n % 16 != 0)
            {
                Span<double> tail = dst.Slice(n - 16, 16);
                for (int i = 0; i < 16; i++)
                    tail[i] = UniformDouble01();
                NormalFill16(tail, mean, std);
            }
        }
    }

    private static void CheckStd(double std)
    {
        if (!(std >= 0))
            throw new ArgumentOutOfRangeException(nameof(std), std, "normal_ expects std >= 0.0");
    }

    /// <summary>PyTorch's <c>normal_fill_16&lt;double&gt;</c>: uniforms in place to 16 normals.</summary>
    private static void NormalFill16(Span<double> data, double mean, double std)
    {
        const double TwoPi = 2.0 * Math.PI;
        for (int j = 0; j < 8; j++)
        {
            double u1 = 1 - data[j];
            double u2 = data[j + 8];
            double radius = Math.Sqrt(-2 * Math.Log(u1));
            double theta = TwoPi * u2;
            data[j] = MulAdd(radius * Math.Cos(theta), std, mean);
            data[j + 8] = MulAdd(radius * Math.Sin(theta), std, mean);
        }
    }

    /// <summary>
    /// PyTorch's <c>normal_fill_16_AVX2</c>, one lane at a time: Box-Muller with the Cephes-derived
    /// <c>log256_ps</c> and <c>sincos256_ps</c> of <c>avx_mathfun.h</c>, then a fused <c>n * std + mean</c>.
    /// </summary>
    private static void NormalFill16(Span<float> data, float mean, float std)
    {
        float twoPi = (float)(2.0 * Math.PI);
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1.0f - data[j];
            float u2 = data[j + 8];
            float radius = MathF.Sqrt(-2.0f * CephesLog(u1));
            float theta = twoPi * u2;
            CephesSinCos(theta, out float sin, out float cos);
            data[j] = MathF.FusedMultiplyAdd(radius * cos, std, mean);
            data[j + 8] = MathF.FusedMultiplyAdd(radius * sin, std, mean);
        }
    }

    private const float LogP0 = (float)7.0376836292E-2;
    private const float LogP1 = (float)-1.1514610310E-1;
    private const float LogP2 = (float)1.1676998740E-1;
    private const float LogP3 = (float)-1.2420140846E-1;
    private const float LogP4 = (float)1.4249322787E-1;
    private const float LogP5 = (float)-1.6668057665E-1;
    private const float LogP6 = (float)2.0000714765E-1;
    private const float LogP7 = (float)-2.4999993993E-1;
    private const float LogP8 = (float)3.3333331174E-1;
    private const float LogQ1 = (float)-2.12194440e-4;
    private const float LogQ2 = (float)0.693359375;
    private const float SqrtHalf = (float)0.707106781186547524;

    /// <summary>Scalar port of <c>log256_ps</c> for positive normal inputs (the Box-Muller radius only needs (0, 1]).</summary>
    private static float CephesLog(float x)
    {
        if (x <= 0f)
            return float.NaN;
        x = MathF.Max(x, BitConverter.Int32BitsToSingle(0x00800000));
        int bits = BitConverter.SingleToInt32Bits(x);
        int imm0 = (int)((uint)bits >> 23) - 0x7f;
        x = BitConverter.Int32BitsToSingle((bits & ~0x7f800000) | BitConverter.SingleToInt32Bits(0.5f));
        float e = (float)imm0;
        e += 1.0f;
        bool small = x < SqrtHalf;
        float tmp = small ? x : 0f;
        x -= 1.0f;
        e -= small ? 1.0f : 0f;
        x += tmp;

        float z = x * x;
        float y = LogP0;
        y = MathF.FusedMultiplyAdd(y, x, LogP1);
        y = MathF.FusedMultiplyAdd(y, x, LogP2);
        y = MathF.FusedMultiplyAdd(y, x, LogP3);
        y = MathF.FusedMultiplyAdd(y, x, LogP4);
        y = MathF.FusedMultiplyAdd(y, x, LogP5);
        y = MathF.FusedMultiplyAdd(y, x, LogP6);
        y = MathF.FusedMultiplyAdd(y, x, LogP7);
        y = MathF.FusedMultiplyAdd(y, x, LogP8);
        y *= x;
        // GCC contracts `y * z + e * q1` by fusing the first product it meets (y * z), not e * q1.
        y = MathF.FusedMultiplyAdd(y, z, e * LogQ1);
        y = MathF.FusedMultiplyAdd(-z, 0.5f, y);
        x += y;
        x = MathF.FusedMultiplyAdd(e, LogQ2, x);
        return x;
    }

    private const float MinusDP1 = (float)-0.78515625;
    private const float MinusDP2 = (float)-2.4187564849853515625e-4;
    private const float MinusDP3 = (float)-3.77489497744594108e-8;
    private const float SinP0 = (float)-1.9515295891E-4;
    private const float SinP1 = (float)8.3321608736E-3;
    private const float SinP2 = (float)-1.6666654611E-1;
    private const float CosP0 = (float)2.443315711809948E-005;
    private const float CosP1 = (float)-1.388731625493765E-003;
    private const float CosP2 = (float)4.166664568298827E-002;
    private const float FourOverPi = (float)1.27323954473516;

    /// <summary>Scalar port of <c>sincos256_ps</c> (Cephes <c>sinf</c>/<c>cosf</c> with a three-part reduction).</summary>
    private static void CephesSinCos(float x, out float sin, out float cos)
    {
        int signSin = BitConverter.SingleToInt32Bits(x) & unchecked((int)0x80000000);
        x = MathF.Abs(x);
        float y = x * FourOverPi;
        // cvttps: truncation toward zero (values here are small and non-negative).
        int j = (int)y;
        j = (j + 1) & ~1;
        y = (float)j;
        int swapSignSin = (j & 4) << 29;
        bool polyMask = (j & 2) == 0;
        int jc = j - 2;
        int signCos = (~jc & 4) << 29;
        signSin ^= swapSignSin;

        x = MathF.FusedMultiplyAdd(y, MinusDP1, x);
        x = MathF.FusedMultiplyAdd(y, MinusDP2, x);
        x = MathF.FusedMultiplyAdd(y, MinusDP3, x);

        float z = x * x;
        float yc = CosP0;
        yc = MathF.FusedMultiplyAdd(yc, z, CosP1);
        yc = MathF.FusedMultiplyAdd(yc, z, CosP2);
        yc *= z;
        // As in the log: `yc * z - z * 0.5` is fused on the first product.
        yc = MathF.FusedMultiplyAdd(yc, z, -(z * 0.5f));
        yc += 1.0f;

        float ys = SinP0;
        ys = MathF.FusedMultiplyAdd(ys, z, SinP1);
        ys = MathF.FusedMultiplyAdd(ys, z, SinP2);
        ys *= z;
        ys = MathF.FusedMultiplyAdd(ys, x, x);

        // polyMask selects the sine polynomial for the sine and the cosine polynomial for the cosine.
        float s = polyMask ? ys : yc;
        float c = polyMask ? yc : ys;
        sin = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(s) ^ signSin);
        cos = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(c) ^ signCos);
    }

    // ----------------------------------------------------------------- integers

    /// <summary>
    /// One integer in [from, toExclusive), as PyTorch's <c>random_(from, to)</c> / <c>randint</c> for an int64
    /// tensor: a 32-bit draw when the range is below 2^32, a 64-bit draw otherwise, reduced modulo the range.
    /// </summary>
    internal long RandomInt(long from, long toExclusive)
    {
        ulong range = RangeOf(from, toExclusive);
        lock (_lock)
            return RandomFromTo(range, from, wide: true);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long RandomFromTo(ulong range, long from, bool wide)
    {
        ulong v = wide && range >= (1UL << 32) ? Draw64() : Draw32();
        return unchecked((long)(v % range + (ulong)from));
    }

    private static ulong RangeOf(long from, long toExclusive)
    {
        if (toExclusive <= from)
            throw new ArgumentException($"random_ expects 'from' to be less than 'to', but got from={from} >= to={toExclusive}");
        return unchecked((ulong)toExclusive - (ulong)from);
    }

    /// <summary>Fills <paramref name="dst"/> as <c>torch.randint(low, high, ..., dtype=torch.int64)</c>.</summary>
    internal void FillRandint(Span<long> dst, long low, long high)
    {
        ulong range = RangeOf(low, high);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = RandomFromTo(range, low, wide: true);
        }
    }

    /// <summary>Fills <paramref name="dst"/> as <c>torch.randint(low, high, ..., dtype=torch.int32)</c> (always 32-bit draws).</summary>
    internal void FillRandint(Span<int> dst, long low, long high)
    {
        ulong range = RangeOf(low, high);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = unchecked((int)RandomFromTo(range, low, wide: false));
        }
    }

    /// <summary>Fills <paramref name="dst"/> as <c>torch.randint(low, high, ..., dtype=torch.float32)</c>.</summary>
    internal void FillRandint(Span<float> dst, long low, long high)
    {
        ulong range = RangeOf(low, high);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = RandomFromTo(range, low, wide: true);
        }
    }

    /// <summary>Fills <paramref name="dst"/> as <c>torch.randint(low, high, ..., dtype=torch.float64)</c>.</summary>
    internal void FillRandint(Span<double> dst, long low, long high)
    {
        ulong range = RangeOf(low, high);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = RandomFromTo(range, low, wide: true);
        }
    }

    // ------------------------------------------------------------- permutation

    /// <summary>
    /// Fills <paramref name="dst"/> with a random permutation of 0 .. n-1 (n = its length), exactly as PyTorch's
    /// CPU <c>torch.randperm(n)</c>: a forward Fisher-Yates shuffle taking <c>random() % (n - i)</c>.
    /// </summary>
    internal void Randperm(Span<long> dst)
    {
        int n = dst.Length;
        for (int i = 0; i < n; i++)
            dst[i] = i;
        lock (_lock)
        {
            for (int i = 0; i < n - 1; i++)
            {
                int z = (int)(Draw32() % (uint)(n - i));
                (dst[i], dst[i + z]) = (dst[i + z], dst[i]);
            }
        }
    }

    /// <summary>As <see cref="Randperm(Span{long})"/> for an int32 result.</summary>
    internal void Randperm(Span<int> dst)
    {
        int n = dst.Length;
        for (int i = 0; i < n; i++)
            dst[i] = i;
        lock (_lock)
        {
            for (int i = 0; i < n - 1; i++)
            {
                int z = (int)(Draw32() % (uint)(n - i));
                (dst[i], dst[i + z]) = (dst[i + z], dst[i]);
            }
        }
    }

    // ---------------------------------------------------------------- bernoulli

    /// <summary>
    /// Fills <paramref name="dst"/> with 1 (probability <paramref name="p"/>) or 0, as PyTorch's CPU
    /// <c>bernoulli_(p)</c> without MKL: one double uniform per element, 1 when it is below p.
    /// </summary>
    internal void FillBernoulli(Span<float> dst, double p)
    {
        CheckProbability(p);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = UniformDouble01() < p ? 1f : 0f;
        }
    }

    /// <summary>As <see cref="FillBernoulli(Span{float}, double)"/> for float64.</summary>
    internal void FillBernoulli(Span<double> dst, double p)
    {
        CheckProbability(p);
        lock (_lock)
        {
            for (int i = 0; i < dst.Length; i++)
                dst[i] = UniformDouble01() < p ? 1.0 : 0.0;
        }
    }

    private static void CheckProbability(double p)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "bernoulli_ expects p to be in [0, 1]");
    }
}
