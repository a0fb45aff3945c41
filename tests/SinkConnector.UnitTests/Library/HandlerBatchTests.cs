using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Failures;
using SinkConnector.UnitTests.Engine;

namespace SinkConnector.UnitTests.Library;

/// <summary>Library mode's batch content: messages deserialized on the thread pool while the batch fills, collected when its write starts.</summary>
public class HandlerBatchTests
{
    private const string Topic = "notes";
    private static readonly TopicPartition s_p0 = new(Topic, 0);
    private static readonly TopicPartition s_p1 = new(Topic, 1);

    [Fact]
    public async Task Full_chunks_are_deserialized_while_the_batch_fills_before_its_write_starts()
    {
        var values = new CountingDeserializer();
        var (batch, content) = NewBatch(values);
        var slice = batch.Slice(s_p0, epoch: 1, expectedOffset: null);
        Add(batch, content, slice, 0, 2100);

        // Two chunks of 1024 are full: their values deserialize without PrepareAsync (CompleteAsync) being called.
        await Eventually.TrueAsync(() => values.Calls >= 2048, "the two full chunks deserialized");
        Assert.Empty(content.Messages);

        await content.CompleteAsync();
        Assert.Equal(2100, values.Calls);
        Assert.Equal(Enumerable.Range(0, 2100).Select(o => (long)o), content.Messages.Select(m => m.Result.Offset.Value));
        Assert.All(content.Messages, m => Assert.Equal(m.Result.Offset.Value, ((Note)m.Value!).Id));
    }

    [Fact]
    public async Task Values_that_are_not_messages_become_dead_letters_of_their_slice_and_the_rest_keep_their_order()
    {
        var (batch, content) = NewBatch(new CountingDeserializer());
        var p0 = batch.Slice(s_p0, 1, null);
        var p1 = batch.Slice(s_p1, 1, null);
        Add(batch, content, p0, 0, 3);
        AddValue(batch, content, p1, 0, "not json");
        Add(batch, content, p1, 1, 2);

        await content.CompleteAsync();

        Assert.Equal(new[] { (0, 0L), (0, 1L), (0, 2L), (1, 1L), (1, 2L) }, content.Messages.Select(m => (m.Result.Partition.Value, m.Result.Offset.Value)));
        Assert.Empty(p0.DeadLetters);
        var deadLetter = Assert.Single(p1.DeadLetters);
        Assert.Equal(0, deadLetter.Offset);
        Assert.Equal("InvalidJson", deadLetter.ErrorKind);
    }

    [Fact]
    public async Task A_registry_outage_fails_the_preparation_and_the_next_one_deserializes_only_the_chunks_that_failed()
    {
        var values = new CountingDeserializer { FailOnceAt = 1400 };
        var (batch, content) = NewBatch(values);
        var slice = batch.Slice(s_p0, 1, null);
        Add(batch, content, slice, 0, 2100);

        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(content.CompleteAsync);
        await content.CompleteAsync();

        Assert.Equal(Enumerable.Range(0, 2100).Select(o => (long)o), content.Messages.Select(m => m.Result.Offset.Value));
        // The first chunk was collected before the failure and kept; the failed one (1024..2047) ran again from its start.
        Assert.Equal(1, values.CallsFor(0));
        Assert.Equal(1, values.CallsFor(1023));
        Assert.Equal(2, values.CallsFor(1024));
        Assert.Equal(2, values.CallsFor(1400));
        Assert.Equal(1, values.CallsFor(2099));
        Assert.Empty(slice.DeadLetters);
    }

    [Fact]
    public async Task A_partition_claimed_again_while_the_batch_fills_is_handled_only_from_its_new_slice()
    {
        var (batch, content) = NewBatch(new CountingDeserializer());
        var before = batch.Slice(s_p0, epoch: 1, expectedOffset: 100);
        Add(batch, content, before, 100, 10);
        var other = batch.Slice(s_p1, 1, null);
        Add(batch, content, other, 0, 5);
        // Fenced by an operator's reset and claimed again: consumption restarts at the stored offset under a new slice.
        batch.Remove(s_p0);
        var after = batch.Slice(s_p0, epoch: 2, expectedOffset: 95);
        Add(batch, content, after, 95, 20);

        await content.CompleteAsync();
        var handled = content.MessagesOf(batch);

        Assert.Equal(35, content.Messages.Count);
        Assert.Equal(25, handled.Count);
        Assert.DoesNotContain(handled, m => m.Slice == before);
        Assert.Equal(Enumerable.Range(95, 20).Select(o => (long)o), handled.Where(m => m.Slice == after).Select(m => m.Result.Offset.Value));
    }

    [Fact]
    public async Task Without_removed_partitions_the_handlers_get_every_message_as_collected()
    {
        var (batch, content) = NewBatch(new CountingDeserializer());
        Add(batch, content, batch.Slice(s_p0, 1, null), 0, 4);
        Add(batch, content, batch.Slice(s_p1, 1, null), 0, 4);

        await content.CompleteAsync();

        Assert.Same(content.Messages, content.MessagesOf(batch));
    }

    private static (WriteBatch Batch, HandlerBatch<NotesContext> Content) NewBatch(CountingDeserializer values)
    {
        var handler = new HandlerRegistration<NotesContext>(Topic, "NoteHandler", _ => values.Deserialize, _ => new object(),
            (_, _, _, _, _) => Task.CompletedTask, preload: null, handlesTombstones: false);
        var deserialization = new MessageDeserialization<NotesContext>(
            new Dictionary<string, HandlerRegistration<NotesContext>> { [Topic] = handler },
            new Dictionary<string, MessageDeserializer> { [Topic] = values.Deserialize },
            new DeadLetterSettings());
        var content = new HandlerBatch<NotesContext>(deserialization);
        return (new WriteBatch(content), content);
    }

    private static void Add(WriteBatch batch, HandlerBatch<NotesContext> content, PartitionSlice slice, long from, int count)
    {
        for (var offset = from; offset < from + count; offset++)
        {
            AddValue(batch, content, slice, offset, $$"""{"id":{{offset}}}""");
        }
    }

    private static void AddValue(WriteBatch batch, HandlerBatch<NotesContext> content, PartitionSlice slice, long offset, string value)
    {
        var result = new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = slice.Partition.Topic,
            Partition = slice.Partition.Partition,
            Offset = offset,
            Message = new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(value), Headers = [] },
        };
        content.Add(slice, result, value.Length);
        batch.Count(slice, value.Length);
    }

    /// <summary>System.Text.Json values, counted per offset; optionally the registry is away once at one offset.</summary>
    private sealed class CountingDeserializer
    {
        private readonly Dictionary<long, int> _calls = [];
        private bool _failed;

        public long? FailOnceAt { get; init; }

        public int Calls
        {
            get
            {
                lock (_calls)
                {
                    return _calls.Values.Sum();
                }
            }
        }

        public int CallsFor(long offset)
        {
            lock (_calls)
            {
                return _calls.GetValueOrDefault(offset);
            }
        }

        public ValueTask<object?> Deserialize(ConsumeResult<byte[]?, byte[]?> result, CancellationToken cancellationToken)
        {
            lock (_calls)
            {
                _calls[result.Offset.Value] = _calls.GetValueOrDefault(result.Offset.Value) + 1;
                if (result.Offset.Value == FailOnceAt && !_failed)
                {
                    _failed = true;
                    throw new SchemaRegistryUnavailableException("the schema registry did not answer", new HttpRequestException("refused"));
                }
            }

            return new ValueTask<object?>(JsonSerializer.Deserialize<Note>(result.Message.Value, s_json));
        }

        private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    }

    private sealed record Note(long Id);

    private sealed class NotesContext : DbContext;
}
