using System.Globalization;
using System.Numerics;

namespace Nabla;

/// <summary>
/// printf-style formatting of doubles that is correctly rounded from the exact binary value, with ties to even,
/// as glibc's <c>printf</c> and Python's <c>format</c> do. .NET's "F"/"E" specifiers round exact ties away from
/// zero (<c>0.125</c> with "F2" gives <c>0.13</c>; Python and C give <c>0.12</c>) and write three-digit exponents,
/// so the digits are produced here from the exact decimal expansion instead.
/// </summary>
internal static class FloatFormat
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>NaN and infinities as Python and glibc write them (<c>nan</c>, <c>inf</c>, <c>-inf</c>).</summary>
    /// <remarks>glibc writes <c>-nan</c> for a NaN with the sign bit set; Python never does. Both printers here
    /// write <c>nan</c>, because .NET's own <see cref="double.NaN"/> has its sign bit set.</remarks>
    static string NonFinite(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";

    /// <summary>The exact value of a finite |v| as N / 10^k.</summary>
    static (BigInteger N, int K) Exact(double v)
    {
        long bits = BitConverter.DoubleToInt64Bits(v) & long.MaxValue;
        int exp = (int)(bits >> 52);
        long man = bits & 0xFFFFFFFFFFFFFL;
        if (exp == 0) exp = 1; else man |= 1L << 52;
        int e = exp - 1075; // value = man * 2^e
        if (man == 0) return (BigInteger.Zero, 0);
        if (e >= 0) return (new BigInteger(man) << e, 0);
        return (new BigInteger(man) * BigInteger.Pow(5, -e), -e);
    }

    /// <summary>q = round(n / d), ties to even.</summary>
    static BigInteger DivRound(BigInteger n, BigInteger d)
    {
        var q = BigInteger.DivRem(n, d, out var r);
        int c = (r * 2).CompareTo(d);
        if (c > 0 || (c == 0 && !q.IsEven)) q += 1;
        return q;
    }

    static string Sign(double v) => double.IsNegative(v) ? "-" : "";

    /// <summary><c>printf("%.{p}f", v)</c> / Python <c>'{:.pf}'.format(v)</c>.</summary>
    public static string Fixed(double v, int p)
    {
        if (!double.IsFinite(v)) return NonFinite(v);
        var (n, k) = Exact(v);
        BigInteger q = p >= k ? n * BigInteger.Pow(10, p - k) : DivRound(n, BigInteger.Pow(10, k - p));
        string s = q.ToString(Inv);
        if (p == 0) return Sign(v) + s;
        if (s.Length <= p) s = new string('0', p + 1 - s.Length) + s;
        return Sign(v) + s[..^p] + "." + s[^p..];
    }

    /// <summary>Mantissa digits (p+1 of them) and decimal exponent of |v| rounded to p+1 significant digits.</summary>
    static (string Digits, int Exp) Significant(double v, int p)
    {
        var (n, k) = Exact(v);
        if (n.IsZero) return (new string('0', p + 1), 0);
        int len = n.ToString(Inv).Length;
        int x = len - 1 - k;
        int drop = len - 1 - p;
        BigInteger q = drop >= 0 ? DivRound(n, BigInteger.Pow(10, drop)) : n * BigInteger.Pow(10, -drop);
        string s = q.ToString(Inv);
        if (s.Length > p + 1) { s = s[..(p + 1)]; x++; } // rounded up to a power of ten
        return (s, x);
    }

    /// <summary><c>printf("%.{p}e", v)</c> / Python <c>'{:.pe}'.format(v)</c>: exponent of at least two digits.</summary>
    public static string Sci(double v, int p)
    {
        if (!double.IsFinite(v)) return NonFinite(v);
        var (d, x) = Significant(v, p);
        string mant = p == 0 ? d : d[..1] + "." + d[1..];
        return Sign(v) + mant + Exponent(x);
    }

    static string Exponent(int x) =>
        "e" + (x < 0 ? "-" : "+") + Math.Abs(x).ToString("00", Inv);

    /// <summary><c>printf("%.{p}g", v)</c>, the C++ stream's <c>defaultfloat</c> with precision p.</summary>
    public static string General(double v, int p)
    {
        if (!double.IsFinite(v)) return NonFinite(v);
        int prec = p == 0 ? 1 : p;
        var (_, x) = Significant(v, prec - 1);
        string s;
        if (v == 0) x = 0;
        if (prec > x && x >= -4)
        {
            s = StripZeros(Fixed(v, prec - 1 - x));
        }
        else
        {
            string e = Sci(v, prec - 1);
            int at = e.IndexOf('e');
            s = StripZeros(e[..at]) + e[at..];
        }
        return s;
    }

    static string StripZeros(string s)
    {
        if (s.IndexOf('.') < 0) return s;
        s = s.TrimEnd('0');
        return s.EndsWith('.') ? s[..^1] : s;
    }
}
