using JasperFx.CommandLine;
using Npgsql;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

public sealed class AddShardInput : NetCoreInput
{
    [Description("The shard's name: 1 to 32 lower-case letters, digits or '-', not \"main\"")]
    [FlagAlias("name")]
    public string NameFlag { get; set; } = "";

    [Description("The connection string of the database that is to be the shard")]
    [FlagAlias("connection")]
    public string ConnectionFlag { get; set; } = "";
}

/// <summary>
/// Shards are configuration (docs/scaling.md), so adding one is: this command prepares the database, then the
/// operator adds the line it prints to every instance's configuration and restarts them.
/// </summary>
[Description("Prepare a database to be a shard: check it, apply the schema, and print the configuration line to add", Name = "add-shard")]
public sealed class AddShardCommand : JasperFxAsyncCommand<AddShardInput>
{
    public override async Task<bool> Execute(AddShardInput input)
    {
        using var host = input.BuildHost();
        var database = host.Services.GetRequiredService<DatabaseSettings>();
        var problem = Shards.NameProblem(input.NameFlag) is { } name ? $"--name: {name}"
            : database.Shards.Any(shard => shard.Name == input.NameFlag) ? $"A shard named '{input.NameFlag}' is configured already."
            : string.IsNullOrWhiteSpace(input.ConnectionFlag) ? "--connection: the connection string of the database that is to be the shard."
            : database.Shards.FirstOrDefault(shard => SameDatabase(shard.ConnectionString, input.ConnectionFlag)) is { } taken
                ? $"That database is shard '{taken.Name}' already."
            : null;
        if (problem is not null)
        {
            Console.Error.WriteLine(problem);
            return false;
        }

        try
        {
            await Persistence.ApplySchemaAsync(Persistence.WithDefaults(input.ConnectionFlag), database.Schema, CancellationToken.None);
        }
        // Marten wraps what Npgsql raised (a refused connection, a missing database, a refused password).
        catch (Exception failure) when ((failure as NpgsqlException ?? failure.InnerException as NpgsqlException) is { } unreachable)
        {
            Console.Error.WriteLine($"The database does not answer: {unreachable.Message}");
            return false;
        }

        Console.WriteLine($"Shard '{input.NameFlag}' has the schema '{database.Schema}'. Add it to every instance's configuration, then restart them:");
        Console.WriteLine($"  {Shards.Section.Replace(":", "__")}__{input.NameFlag}={input.ConnectionFlag}");
        Console.WriteLine("New organisations then go to the shard with the fewest; the ones already registered stay where they are.");
        return true;
    }

    private static bool SameDatabase(string configured, string given)
    {
        var a = new NpgsqlConnectionStringBuilder(configured);
        var b = new NpgsqlConnectionStringBuilder(given);
        return string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port && a.Database == b.Database;
    }
}
