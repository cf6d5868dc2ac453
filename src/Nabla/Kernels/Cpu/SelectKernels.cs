using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Branch-free selection by a bool mask (where, masked_fill): a random mask makes a per-element branch mispredict about
/// half the time, so the mask bytes are widened into vector lane masks instead.
/// </summary>
internal static class SelectKernels
{
    /// <summary>dst[i] = cond[i] ? (xIsScalar ? xScalar : x[i]) : y[i].</summary>
    public static void Select<T>(ReadOnlySpan<bool> cond, ReadOnlySpan<T> x, T xScalar, bool xIsScalar, ReadOnlySpan<T> y, Span<T> dst)
        where T : unmanaged
    {
        int n = dst.Length;
        if (cond.Length < n || y.Length < n || (!xIsScalar && x.Length < n)) throw new ArgumentException("span too short");
        ref byte pc = ref Unsafe.As<bool, byte>(ref MemoryMarshal.GetReference(cond));
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        ref T pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Avx512F.IsSupported && Vector512<T>.IsSupported)
        {
            var sx = Vector512.Create(xScalar);
            if (Unsafe.SizeOf<T>() == 4)
            {
                for (; i <= n - 16; i += 16)
                {
                    var mask = Vector512.GreaterThan(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pc, (nuint)i)), Vector512<int>.Zero).As<int, T>();
                    var vx = xIsScalar ? sx : Vector512.LoadUnsafe(ref px, (nuint)i);
                    Vector512.ConditionalSelect(mask, vx, Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
                }
            }
            else if (Unsafe.SizeOf<T>() == 8)
            {
                for (; i <= n - 8; i += 8)
                {
                    var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pc, i))).AsByte();
                    var mask = Vector512.GreaterThan(Avx512F.ConvertToVector512Int64(bytes), Vector512<long>.Zero).As<long, T>();
                    var vx = xIsScalar ? sx : Vector512.LoadUnsafe(ref px, (nuint)i);
                    Vector512.ConditionalSelect(mask, vx, Vector512.LoadUnsafe(ref py, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
                }
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref pd, i) = Unsafe.Add(ref pc, i) != 0 ? (xIsScalar ? xScalar : Unsafe.Add(ref px, i)) : Unsafe.Add(ref py, i);
    }
}
