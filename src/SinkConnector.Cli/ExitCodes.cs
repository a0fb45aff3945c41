namespace SinkConnector.Cli;

/// <summary>The exit-code contract of docs/commands.md.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
