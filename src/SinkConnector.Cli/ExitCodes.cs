namespace SinkConnector.Cli;

/// <summary>The contract of DESIGN.md section 2.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
