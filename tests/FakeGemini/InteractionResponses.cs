using System.Globalization;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Bodies of the Interactions API: the interaction, and its stream's events (<c>interaction.created</c>,
/// <c>step.start</c>, one <c>step.delta</c> a piece, <c>step.stop</c>, <c>interaction.completed</c>). Usage comes last
/// wherever it appears, as Google sends it.
/// </summary>
internal static class InteractionResponses
{
    public static byte[] Interaction(FakeInteraction interaction) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        WriteHead(json, interaction, interaction.Status);
        json.WriteString("created", Timestamp(interaction.Created));
        json.WriteString("updated", Timestamp(interaction.Updated));
        if (interaction.PreviousId is { } previous)
        {
            json.WriteString("previous_interaction_id", previous);
        }

        if (interaction.HasOutput)
        {
            json.WriteStartArray("steps");
            json.WriteStartObject();
            json.WriteString("type", "model_output");
            json.WriteStartArray("content");
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", interaction.Text);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            WriteUsage(json, interaction.Usage);
        }

        json.WriteEndObject();
    });

    /// <summary>Events of a stream that shows the interaction's output: created, start, the deltas, stop, completed.</summary>
    public static int OutputEventCount(FakeInteraction interaction) => interaction.Pieces.Count + 4;

    /// <summary>
    /// Event <paramref name="index"/> of a stream with output (<see cref="OutputEventCount"/>). The last one reads the
    /// interaction's status when it is built, so the caller completes the interaction first.
    /// </summary>
    public static byte[] OutputEvent(FakeInteraction interaction, int index)
    {
        var pieces = interaction.Pieces.Count;
        if (index == 0)
        {
            return Created(interaction, index);
        }

        if (index == pieces + 3)
        {
            return Completed(interaction, index);
        }

        return JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            if (index == 1)
            {
                json.WriteString("event_type", "step.start");
                json.WriteNumber("index", 0);
                json.WriteStartObject("step");
                json.WriteString("type", "model_output");
                json.WriteEndObject();
            }
            else if (index <= pieces + 1)
            {
                json.WriteString("event_type", "step.delta");
                json.WriteNumber("index", 0);
                json.WriteStartObject("delta");
                json.WriteString("type", "text");
                json.WriteString("text", interaction.Pieces[index - 2]);
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("event_type", "step.stop");
                json.WriteNumber("index", 0);
            }

            json.WriteString("event_id", EventId(interaction, index));
            json.WriteEndObject();
        });
    }

    /// <summary>
    /// Event <paramref name="index"/> of a stream without output: created, then (unless it is still in progress) the
    /// <c>interaction.completed</c> that carries how it ended, e.g. cancelled.
    /// </summary>
    public static byte[] BareEvent(FakeInteraction interaction, int index) =>
        index == 0 ? Created(interaction, index) : Completed(interaction, index);

    private static byte[] Created(FakeInteraction interaction, int index) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("event_type", "interaction.created");
        json.WriteString("event_id", EventId(interaction, index));
        json.WriteStartObject("interaction");
        WriteHead(json, interaction, FakeInteraction.InProgress);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    private static byte[] Completed(FakeInteraction interaction, int index) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("event_type", "interaction.completed");
        json.WriteString("event_id", EventId(interaction, index));
        json.WriteStartObject("interaction");
        WriteHead(json, interaction, interaction.Status);
        if (interaction.HasOutput)
        {
            WriteUsage(json, interaction.Usage);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    });

    private static void WriteHead(Utf8JsonWriter json, FakeInteraction interaction, string status)
    {
        json.WriteString("id", interaction.Id);
        json.WriteString("object", "interaction");
        if (interaction.Model is { } model)
        {
            json.WriteString("model", model);
        }
        else
        {
            json.WriteString("agent", interaction.Agent);
        }

        json.WriteString("status", status);
    }

    private static void WriteUsage(Utf8JsonWriter json, TokenUsage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("total_input_tokens", usage.Prompt);
        json.WriteNumber("total_output_tokens", usage.Completion);
        json.WriteNumber("total_tokens", usage.Total);
        json.WriteEndObject();
    }

    /// <summary>The same for an event of the live stream and of its replay, so a client can tell where it is in either.</summary>
    private static string EventId(FakeInteraction interaction, int index) =>
        interaction.Id + "-" + index.ToString(CultureInfo.InvariantCulture);

    private static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
